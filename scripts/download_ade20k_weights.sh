#!/usr/bin/env bash
# Download pretrained ADE20K scene parsers (MIT CSAIL semantic-segmentation-pytorch) for the
# `ade20k` sky method. Needs internet; skyseg itself never downloads anything.
#
#   scripts/download_ade20k_weights.sh [MODEL ...] [--dir DIR]
#
# MODEL is one or more of the names below (default: mobilenetv2dilated-c1_deepsup, the small
# fast one); "all" fetches every one. Files land in DIR/ade20k-<MODEL>/ (default DIR:
# assets/models/ade20k, where skyseg looks by default; or set SKYSEG_ADE20K_DIR=DIR).
#
# Code licence: BSD-3-Clause (CSAILVision/semantic-segmentation-pytorch). The weights were trained
# on ADE20K / the MIT Scene Parsing Benchmark, whose images are for non-commercial research and
# education under the dataset's terms of use: check them before any other use.
#
# The server refuses directory listings (403 on .../model/pytorch/) but serves the files.
set -euo pipefail

BASE_URL="http://sceneparsing.csail.mit.edu/model/pytorch"

# name  epoch   encoder + decoder size (float32 state dicts of the same architectures, built here)
MODELS=(
  "mobilenetv2dilated-c1_deepsup 20"   #   7.4 +   1.5 MB, fastest
  "resnet18dilated-c1_deepsup 20"      #  45.3 +   3.7 MB
  "resnet18dilated-ppm_deepsup 20"     #  45.3 +  53.0 MB
  "resnet50dilated-ppm_deepsup 20"     #  94.7 + 111.8 MB
  "resnet101dilated-ppm_deepsup 25"    # 170.9 + 111.8 MB, slowest
)

dest="$(cd "$(dirname "$0")/.." && pwd)/assets/models/ade20k"
wanted=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dest="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    all) for m in "${MODELS[@]}"; do wanted+=("${m%% *}"); done; shift ;;
    *) wanted+=("${1#ade20k-}"); shift ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=("mobilenetv2dilated-c1_deepsup")

fetch() {  # url target: download to a temporary name, rename when complete
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -o "$2.part" "$1"
  else
    wget -q --tries=3 -O "$2.part" "$1"
  fi
  mv "$2.part" "$2"
}

for name in "${wanted[@]}"; do
  epoch=""
  for m in "${MODELS[@]}"; do
    [ "${m%% *}" = "$name" ] && epoch="${m##* }"
  done
  if [ -z "$epoch" ]; then
    echo "unknown model '$name'; choose from: $(for m in "${MODELS[@]}"; do printf '%s ' "${m%% *}"; done)" >&2
    exit 2
  fi
  folder="$dest/ade20k-$name"
  mkdir -p "$folder"
  for part in encoder decoder; do
    file="${part}_epoch_${epoch}.pth"
    if [ -s "$folder/$file" ]; then
      echo "have $folder/$file"
      continue
    fi
    echo "fetching $BASE_URL/ade20k-$name/$file"
    fetch "$BASE_URL/ade20k-$name/$file" "$folder/$file"
  done
done

echo "done. Use: skyseg mask photo.jpg --method ade20k   (SKYSEG_ADE20K_DIR=$dest if not the default)"
echo "optional, torch-free inference: skyseg export-ade20k $dest/ade20k-${wanted[0]} -o ade20k-${wanted[0]}.onnx"
