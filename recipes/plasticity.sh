#!/usr/bin/env bash
# Plasticity seed, end to end: the supervised 784-512-10 LIF baseline (10 epochs, alpha_reg 1e-4, clip 1),
# then unsupervised post-training with every rule in the gentle (1e-5) and strong (1e-4) regime, the
# STDP-only baseline, and the snnTorch per-step reference of the baseline. Resumable: re-running skips
# the finished baseline and every finished eta. EPOCHS=3 bash recipes/plasticity.sh for the check.
set -euo pipefail
OUT=${OUT:-runs}
EPOCHS=${EPOCHS:-10}
POST_EPOCHS=${POST_EPOCHS:-3}
DATASET=${DATASET:-fashionmnist}   # mnist too, where its files exist (the seed used MNIST)

for rule in hebb anti-hebb oja stdp; do   # the first run trains the baseline, the others reuse it
  snn plasticity --dataset "$DATASET" --epochs "$EPOCHS" --post-epochs "$POST_EPOCHS" \
    --rule "$rule" --eta 1e-5 --eta 1e-4 --out "$OUT"
done
snn plasticity --dataset "$DATASET" --baseline stdp --out "$OUT"

# The yardstick of the quality bar: the same network and settings in snnTorch's per-step Leaky loop.
snn train --dataset "$DATASET" --model mlp --epochs "$EPOCHS" --batch-size 128 --lr 1e-3 \
  --alpha-reg 1e-4 --weight-clip 1 --val-fraction 0 --engine snntorch --out "$OUT/plasticity_reference"
