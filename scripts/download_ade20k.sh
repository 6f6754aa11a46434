#!/usr/bin/env bash
# Download the ADE20K scene-parsing data (ADEChallengeData2016, ~923 MB) for training the sky U-Net.
#
#   scripts/download_ade20k.sh [TARGET_DIR]      (default: data/)
#
# Then set `ade20k_root = "data/ADEChallengeData2016"` in the [data] table of your config
# (configs/unet_small.toml) and run `skyseg train --config configs/unet_small.toml`:
# every ADE20K photo trains (annotation value 3 = sky, 0 = unlabelled = ignored), and its
# `validation` folder joins the validation split.
#
# Licence: the ADE20K images come from the SUN and Places databases and are for
# non-commercial research and educational use only (see https://ade20k.csail.mit.edu/terms);
# a model trained on them inherits those terms.
set -euo pipefail

URL="http://data.csail.mit.edu/places/ADEchallenge/ADEChallengeData2016.zip"
TARGET="${1:-data}"
mkdir -p "$TARGET"
ZIP="$TARGET/ADEChallengeData2016.zip"

if [ -d "$TARGET/ADEChallengeData2016/images" ]; then
    echo "already there: $TARGET/ADEChallengeData2016"
    exit 0
fi
if command -v curl >/dev/null; then
    curl -L --fail --retry 3 -C - -o "$ZIP" "$URL"
else
    wget -c -O "$ZIP" "$URL"
fi
unzip -q "$ZIP" -d "$TARGET"
rm -f "$ZIP"
echo "ADE20K ready: $TARGET/ADEChallengeData2016 ($(find "$TARGET/ADEChallengeData2016/images" -name '*.jpg' | wc -l) images)"
