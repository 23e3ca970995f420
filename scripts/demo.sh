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
and run:     build/bin/clipcaer classify --model clip_caer.safetensors CLIP_DIR_OR_VIDEO
             build/bin/clipcaer timeline --model clip_caer.safetensors LESSON_VIDEO

MSG
build/bin/clipcaer classify --model "$model" --face-boxes examples/data/sample_clip/face_boxes.json \
  --body-boxes examples/data/sample_clip/body_boxes.json "$clip"
echo
echo "Without box files: the face found in each frame by OpenCV's face cascades (opencv-data);"
echo "frames where none is found (the student looks down) use the whole frame:"
build/bin/clipcaer classify --model "$model" --detect-faces "$clip"
if build/bin/clipcaer --version | grep -q "^Video decoder: FFmpeg"; then
  echo
  echo "The same clip as a video file (frames decoded with FFmpeg; face boxes keyed by frame index):"
  build/bin/clipcaer classify --model "$model" --face-boxes examples/data/sample_video_faces.json \
    --body-boxes examples/data/sample_video_bodies.json examples/data/sample_video.mp4
  echo
  echo "A long video is classified window by window (here 1 s windows every 0.5 s of the 2.4 s sample):"
  build/bin/clipcaer timeline --model "$model" --window 1 --stride 0.5 --face-boxes examples/data/sample_video_faces.json \
    --body-boxes examples/data/sample_video_bodies.json examples/data/sample_video.mp4
fi
