#!/usr/bin/env bash
# G2GNet seed, dynamic sparse training on Fashion-MNIST: the seed README's DST commands.
set -euo pipefail
EPOCHS=${EPOCHS:-20}
OUT=${OUT:-runs/g2g-dst}

for model in index random mixer; do
  snn train --dataset fashionmnist --model "$model" --sparsity_mode dynamic --cp hebb --cg hebb --epochs "$EPOCHS" --out "$OUT"
done
snn train --dataset fashionmnist --model mixer --sparsity_mode dynamic --cp set --cg hebb --epochs "$EPOCHS" --out "$OUT"
snn train --dataset fashionmnist --model index --sparsity_mode dynamic --cp set --cg random --epochs "$EPOCHS" --out "$OUT"

for result in "$OUT"/*/result.json; do
  python3 - "$result" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['name']:60s} test_acc={r['test_acc']:.4f} sparsity={r['sparsity']:.3f}")
PY
done
