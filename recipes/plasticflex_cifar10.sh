#!/usr/bin/env bash
# PlasticFlex seed, "training accuracy comparison": its README's grid spiking x STBP x mask x conv:pool ratio
# (2 x 2 x 3 x 3 = 36 points, 9 of them invalid: STBP without spiking) of VGG-11 with a Flex layer at every
# convolution (--flex-layers all, as the seed builds it) on CIFAR-10, with the settings of its grid launcher
# (run_experiments.py: 30 epochs, batch 64, lr 0.001; SGD momentum 0.9, weight decay 1e-5, cosine) and its
# data conventions (normalised inputs, no crop/flip, Gaussian input noise 0.1, kaiming init); then the
# summary table and grouped bar chart (OUT/summary.csv, OUT/summary.png). Finished points are skipped on a re-run.
#   EPOCHS=1 DATASET=synthetic-cifar EXTRA="--width 0.0625 --max-batches 2" bash recipes/plasticflex_cifar10.sh   # smoke run
set -euo pipefail
EPOCHS=${EPOCHS:-30}
DATASET=${DATASET:-cifar10}
OUT=${OUT:-runs/plasticflex_cifar10}
JOBS=${JOBS:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2086  # EXTRA is a list of flags
snn sweep "$HERE/plasticflex_grid.json" --epochs "$EPOCHS" --dataset "$DATASET" --flex-layers all --out "$OUT" \
    --jobs "$JOBS" ${EXTRA:-} || echo "some points failed (listed above); the summary shows the others" >&2
snn sweep summarize "$OUT" --x spiking --x use_stbp --x conv_pool_ratio --hue masking_mechanism
