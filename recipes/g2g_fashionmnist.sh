#!/usr/bin/env bash
# G2GNet seed, Fashion-MNIST, static and dynamic sparsity: the seed README's commands with `python train.py` -> `snn train`.
set -euo pipefail
EPOCHS=${EPOCHS:-20}
OUT=${OUT:-runs/g2g}

snn train --dataset fashionmnist --model dense --epochs "$EPOCHS" --out "$OUT"
snn train --dataset fashionmnist --model index --p_inter 0.15 --epochs "$EPOCHS" --out "$OUT"
snn train --dataset fashionmnist --model random --p_inter 0.20 --epochs "$EPOCHS" --out "$OUT"
snn train --dataset fashionmnist --model mixer --p_inter 0.15 --epochs "$EPOCHS" --out "$OUT"
# Dynamic sparse training (the seed's DST commands).
for model in index random mixer; do
  snn train --dataset fashionmnist --model "$model" --sparsity_mode dynamic --cp hebb --cg hebb --epochs "$EPOCHS" --out "$OUT"
done
snn train --dataset fashionmnist --model mixer --sparsity_mode dynamic --cp set --cg hebb --epochs "$EPOCHS" --out "$OUT"
snn train --dataset fashionmnist --model index --sparsity_mode dynamic --cp set --cg random --epochs "$EPOCHS" --out "$OUT"
# Firing-rate regularisation after a warm-up (the seed's --enforce_sparsity run).
snn train --dataset fashionmnist --model mixer --enforce_sparsity --warmup_epochs $((EPOCHS / 2)) \
  --epochs "$EPOCHS" --out "$OUT/regularised"

# One line per run: model, test accuracy, samples/s.
for result in "$OUT"/*/result.json "$OUT"/regularised/*/result.json; do
  python3 - "$result" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['name']:45s} test_acc={r['test_acc']:.4f} samples/s={r['samples_per_s']}")
PY
done
