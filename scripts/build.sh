#!/usr/bin/env bash
# Configures and builds clipcaer into build/ (Release) with the system Python.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE="$PYTHON" "$@" >/dev/null
cmake --build build -j"$(nproc)"
