#!/usr/bin/env bash
# Runs every example on the bundled sample clip and checks they all print the
# same logits: C++, C, Python (module), Python (ctypes over the C ABI), Rust.
# usage: run_examples.sh SOURCE_DIR BUILD_DIR PYTHON
set -euo pipefail
src=$1 build=$2 python=$3
model=$src/examples/data/demo_model.safetensors
clip=$src/examples/data/sample_clip
boxes=("$src/examples/data/face_boxes.json" "$src/examples/data/body_boxes.json")
[[ -f ${boxes[0]} ]] || boxes=()

declare -A out
out[cpp]=$("$build/bin/classify_clip" "$model" "$clip" "${boxes[@]}")
out[c]=$("$build/bin/classify_clip_c" "$model" "$clip" "${boxes[@]}")
out[python]=$(PYTHONPATH=$build/python "$python" "$src/examples/python/classify_clip.py" "$model" "$clip" "${boxes[@]}")
out[ctypes]=$("$python" "$src/examples/python_ctypes/classify_clip.py" "$build/lib/libclipcaer.so" "$model" "$clip" \
  "${boxes[@]}")
if command -v cargo >/dev/null; then
  CLIPCAER_LIB_DIR=$build/lib cargo build --offline --release -q --manifest-path "$src/examples/rust/Cargo.toml" \
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
