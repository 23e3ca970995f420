#!/usr/bin/env bash
# Installs the Debian packages clipcaer builds with (opencv-data: OpenCV's
# trained face cascades, data files only, for --detect-faces). `--test` adds
# what the test suite uses (PyTorch, Pillow and OpenCV as references, the
# ffmpeg command to make and extract test videos; never at run time) and
# fetches photographs with faces (scripts/fetch-test-pictures.sh).
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config
      libxsimd-dev nlohmann-json3-dev libstb-dev libjpeg-dev zlib1g-dev libeigen3-dev
      libavformat-dev libavcodec-dev libswscale-dev opencv-data
      pybind11-dev python3-dev python3-numpy
      doctest-dev libbenchmark-dev)
if [[ "${1:-}" == "--test" ]]; then
  # libopenblas0-pthread: Debian's torch and numpy otherwise run on the reference BLAS (~40x slower).
  pkgs+=(python3-pytest python3-torch python3-pil python3-opencv python3-venv python3-pip libopenblas0-pthread
        ffmpeg)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [[ "${1:-}" == "--test" ]]; then
  "$(dirname "$0")/fetch-test-pictures.sh"
fi
