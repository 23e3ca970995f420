#!/usr/bin/env bash
# The main job out of the box: installs what is missing, builds, and
# classifies the bundled sample clip with the bundled synthetic model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
model=examples/data/demo_model.safetensors
clip=examples/data/sample_clip
cat <<MSG

clipcaer demo — classifying the bundled sample clip ($clip).
NOTE: $model has SYNTHETIC random weights, so its answer means nothing; it
only shows the whole pipeline running. For real predictions convert the official
checkpoint:  python3 weights/convert.py model_best.pth -o clip_caer.safetensors
and run:     build/bin/clipcaer classify --model clip_caer.safetensors CLIP_DIR

MSG
build/bin/clipcaer classify --model "$model" --face-boxes examples/data/sample_clip/face_boxes.json \
  --body-boxes examples/data/sample_clip/body_boxes.json "$clip"
