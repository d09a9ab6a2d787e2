#!/usr/bin/env bash
# The benchmark rows of benchmarks/README.md (issue #17). JSON per row into $OUT.
# Peers are optional extras: pip install spikingjelly norse torch==2.13.0 torchvision==0.28.0
# TRAINED: a trained dense 3x2048 network (a state dict from benchmarks/train_dense3.py, or the .pth of
#   `snn train --epochs 1`); TRAINED_MIXER: the same for `--model mixer`. Their rows run on real
#   Fashion-MNIST test images (--data), so the layers fire at their trained rates; skipped when unset.
set -euo pipefail
OUT=${OUT:-bench-results}
AGAINST=${AGAINST:-spikingjelly,norse}
mkdir -p "$OUT"
snn bench --model mlp --hidden-dim 512 --T 25 --batch-size 128 --against "$AGAINST" --json > "$OUT/mlp.json"
snn bench --model dense --hidden-dim 2048 --hidden-layers 3 --T 50 --batch-size 256 --against "$AGAINST" --json > "$OUT/dense.json"
snn bench --model mixer --hidden-dim 2048 --hidden-layers 3 --T 50 --batch-size 256 --p-inter 0.15 --json > "$OUT/mixer.json"
if [ -n "${TRAINED:-}" ]; then
  snn bench --model dense --hidden-dim 2048 --hidden-layers 3 --T 50 --batch-size 256 --weights "$TRAINED" \
    --data fashionmnist --json > "$OUT/dense_trained.json"
fi
if [ -n "${TRAINED_MIXER:-}" ]; then
  snn bench --model mixer --hidden-dim 2048 --hidden-layers 3 --T 50 --batch-size 256 --p-inter 0.15 \
    --weights "$TRAINED_MIXER" --data fashionmnist --json > "$OUT/mixer_trained.json"
fi
for f in "$OUT"/*.json; do
  python3 - "$f" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); c = r["config"]
for impl, q in r["ratios"].items():
    t = q["train"]; mem = "n/a" if q["peak_memory"] is None else f"{q['peak_memory']:.2f}x"
    print(f"{sys.argv[1].split('/')[-1]:20s} {impl:13s} train {t['median']:.2f}x ({t['min']:.2f}-{t['max']:.2f}) "
          f"inference {q['infer']['median']:.2f}x memory {mem} | {r['cpu']}, load {r['load_before']} -> {r['load_after']}")
for w in r["warnings"]:
    print("  warning:", w)
PY
done
