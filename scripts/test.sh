#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test (C++ and Python) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh -DCLIPCAER_WERROR=ON
cd build && ctest --output-on-failure -j2
