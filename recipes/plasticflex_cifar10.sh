#!/usr/bin/env bash
# PlasticFlex seed, "training accuracy comparison": the grid spiking x STBP x mask x conv:pool ratio
# (2 x 2 x 3 x 3 = 36 points, 9 of them invalid: STBP without spiking) of Flex VGG-11 on CIFAR-10,
# then the summary table and grouped bar chart (OUT/summary.csv, OUT/summary.png).
#   EPOCHS=1 DATASET=synthetic-cifar EXTRA="--width 0.125 --max-batches 4" bash recipes/plasticflex_cifar10.sh   # smoke run
set -euo pipefail
EPOCHS=${EPOCHS:-30}
DATASET=${DATASET:-cifar10}
OUT=${OUT:-runs/plasticflex_cifar10}
JOBS=${JOBS:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2086  # EXTRA is a list of flags
snn sweep "$HERE/plasticflex_grid.json" --epochs "$EPOCHS" --dataset "$DATASET" --out "$OUT" --jobs "$JOBS" ${EXTRA:-} \
    || echo "some points failed (listed above); the summary shows the others" >&2
snn sweep summarize "$OUT" --x spiking --x use_stbp --x conv_pool_ratio --hue masking_mechanism
