#!/usr/bin/env bash
# run_consumer.sh MODE SOURCE_DIR MAIN_BUILD_DIR MODEL: builds tests/package/consumer
# against clipcaer in MODE (find_package | subdirectory | fetchcontent), runs
# its C++ and C programs, and checks they agree.
set -euo pipefail
mode=$1 src=$2 main_build=$3 model=$4
work=$(mktemp -d /tmp/clipcaer_consumer_${mode}_XXXX)
trap 'rm -rf "$work"' EXIT
args=(-DCLIPCAER_MODE="$mode" -DCLIPCAER_SOURCE="$src" -DCMAKE_BUILD_TYPE=Release)
if [[ $mode == find_package ]]; then
  cmake --install "$main_build" --prefix "$work/prefix" >/dev/null
  args+=(-DCMAKE_PREFIX_PATH="$work/prefix")
fi
cmake -S "$src/tests/package/consumer" -B "$work/build" -G Ninja "${args[@]}" >"$work/configure.log" || {
  cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }
cpp=$("$work/build/consumer_cpp" "$model")
c=$(LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/build/consumer_c" "$model")
echo "$cpp"
echo "$c"
[[ ${cpp#cpp } == "${c#c }" ]] || { echo "C++ and C results differ"; exit 1; }
