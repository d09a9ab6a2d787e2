#!/usr/bin/env bash
# G2GNet seed, cross-validation: the seed README's crossval example (`python crossval.py` -> `snn crossval`).
set -euo pipefail
EPOCHS=${EPOCHS:-10}
OUT=${OUT:-runs/g2g-crossval}
JOBS=${JOBS:-1}
snn crossval --dataset fashionmnist --model mixer --k_folds 5 --epochs "$EPOCHS" --jobs "$JOBS" --out "$OUT"
