#!/usr/bin/env bash
# Runs every example on the bundled sample clip and checks they all print the
# same logits: C++, C, Python (module), Python (ctypes over the C ABI), Rust.
# usage: run_examples.sh SOURCE_DIR BUILD_DIR PYTHON
set -euo pipefail
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd) python=$3
# From the source root: the sample's box files name the clip "examples/data/sample_clip".
cd "$src"
model=examples/data/demo_model.safetensors
clip=examples/data/sample_clip
boxes=(examples/data/sample_clip/face_boxes.json examples/data/sample_clip/body_boxes.json)

declare -A out
out[cpp]=$("$build/bin/classify_clip" "$model" "$clip" "${boxes[@]}")
out[c]=$("$build/bin/classify_clip_c" "$model" "$clip" "${boxes[@]}")
out[python]=$(PYTHONPATH=$build/python "$python" examples/python/classify_clip.py "$model" "$clip" "${boxes[@]}")
out[ctypes]=$("$python" examples/python_ctypes/classify_clip.py "$build/lib/libclipcaer.so" "$model" "$clip" \
  "${boxes[@]}")
if command -v cargo >/dev/null; then
  CLIPCAER_LIB_DIR=$build/lib cargo build --offline --release -q --manifest-path examples/rust/Cargo.toml \
    --target-dir "$build/rust"
  out[rust]=$("$build/rust/release/clipcaer-example" "$model" "$clip" "${boxes[@]}")
else
  echo "cargo not found: Rust example skipped"
fi

reference=$(grep '^logits:' <<<"${out[cpp]}")
echo "${out[cpp]}"
status=0
for lang in "${!out[@]}"; do
  got=$(grep '^logits:' <<<"${out[$lang]}")
  if [[ $got == "$reference" ]]; then
    echo "$lang: same logits"
  else
    echo "$lang: DIFFERENT logits: $got"
    status=1
  fi
done
exit $status
