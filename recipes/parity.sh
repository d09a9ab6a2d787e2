#!/usr/bin/env bash
# Accuracy parity: the fused engine (auto precision) vs. snnTorch's per-step loop, same seed and epochs.
set -euo pipefail
OUT=${OUT:-runs/parity}
MODEL=${MODEL:-dense}
EPOCHS=${EPOCHS:-1}
snn_acc=$(snn train --model "$MODEL" --epochs "$EPOCHS" --out "$OUT" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['test_acc'])")
ref_acc=$(snn train --model "$MODEL" --epochs "$EPOCHS" --out "$OUT" --engine snntorch --json | python3 -c "import json,sys; print(json.load(sys.stdin)['test_acc'])")
python3 -c "a, b = $snn_acc, $ref_acc; print(f'$MODEL, $EPOCHS epoch(s): snn {a:.4f}  snnTorch {b:.4f}  difference {100 * (a - b):+.2f} points')"
