#!/usr/bin/env bash
# `pip install .` into a fresh virtual environment (build isolation fetches
# scikit-build-core and pybind11 from PyPI), then the Python test suite runs
# against the installed package, from outside the source tree.
# usage: run_pip_install.sh SOURCE_DIR PYTHON
set -euo pipefail
src=$1 python=$2
work=$(mktemp -d /tmp/clipcaer_pip_XXXX)
trap 'rm -rf "$work"' EXIT
"$python" -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "$src" >"$work/pip.log" 2>&1 || { cat "$work/pip.log"; exit 1; }
cd "$work"
"$work/venv/bin/python" - <<'PY'
import clipcaer, pathlib
where = pathlib.Path(clipcaer.__file__).resolve()
assert "site-packages" in str(where), where
print("installed at", where.parent)
PY
CLIPCAER_REQUIRE_INSTALLED=1 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$src/tests/python/test_model.py" \
  "$src/tests/python/test_installed.py"
