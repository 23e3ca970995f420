#!/usr/bin/env bash
# Photographs with real faces for the face-detection tests (tests/python/
# test_faces.py): scikit-image's sample pictures (astronaut: NASA, public
# domain; camera, coffee, chelsea), taken from Debian's python3-skimage
# package without installing it (its dependencies are large). They are
# fetched, never committed; the tests read them from this cache.
set -euo pipefail
dest="${CLIPCAER_TEST_PICTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/clipcaer/test-pictures}"
want=(astronaut.png camera.png coffee.png chelsea.png)
missing=0
for f in "${want[@]}"; do [[ -f "$dest/$f" ]] || missing=1; done
((missing)) || exit 0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
if ! (cd "$tmp" && apt-get download python3-skimage >/dev/null 2>&1); then
  $sudo apt-get update -qq
  (cd "$tmp" && apt-get download python3-skimage >/dev/null)
fi
dpkg -x "$tmp"/python3-skimage_*.deb "$tmp/x"
mkdir -p "$dest"
for f in "${want[@]}"; do cp "$tmp/x/usr/lib/python3/dist-packages/skimage/data/$f" "$dest/"; done
echo "test pictures: $dest"
