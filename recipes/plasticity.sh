#!/usr/bin/env bash
# Plasticity seed, end to end, with the seed notebook's settings (snn plasticity's defaults): the supervised
# 784-512-10 LIF baseline (10 epochs, normalised current input, fast sigmoid, alpha_reg 1e-4 on the mean output
# spikes, no clipping), then the seed's Hebbian/anti-Hebbian rule in the gentle (1e-5) and strong (1e-4) regime,
# every other rule for comparison, the STDP-only baseline, and the snnTorch per-step reference of the baseline.
# Resumable: re-running skips the finished baseline and every finished eta. EPOCHS=3 for a quicker check.
set -euo pipefail
OUT=${OUT:-runs}
EPOCHS=${EPOCHS:-10}
POST_EPOCHS=${POST_EPOCHS:-3}
DATASET=${DATASET:-fashionmnist}   # mnist too, where its files exist (the seed used MNIST)

for rule in hebb-anti-hebb hebb anti-hebb oja stdp; do   # the first run trains the baseline, the others reuse it
  snn plasticity --dataset "$DATASET" --epochs "$EPOCHS" --post-epochs "$POST_EPOCHS" \
    --rule "$rule" --eta 1e-5 --eta 1e-4 --out "$OUT"
done
snn plasticity --dataset "$DATASET" --baseline stdp --out "$OUT"

# The yardstick: the same network and settings in snnTorch's per-step Leaky loop. The encoder's affine map is
# the dataset's normalisation, read from the baseline run snn plasticity trained.
BASE="$OUT/plasticity_${DATASET}_mlp512_T25_current/baseline"
read -r SCALE BIAS < <(python -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['enc_scale'], c['enc_bias'])" "$BASE/config.json")
snn train --dataset "$DATASET" --model mlp --epochs "$EPOCHS" --batch-size 128 --lr 1e-3 --enc-scale="$SCALE" --enc-bias="$BIAS" \
  --alpha-reg 1e-4 --val-fraction 0 --engine snntorch --out "$OUT/plasticity_reference"
