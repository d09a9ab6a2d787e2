#!/usr/bin/env bash
# The benchmark rows of benchmarks/README.md (issue #17). JSON per row into $OUT.
# Peers are optional extras: pip install spikingjelly norse torch==2.13.0 torchvision==0.28.0
# TRAINED: a state dict from benchmarks/train_dense3.py (the trained-weights row is skipped without it).
set -euo pipefail
OUT=${OUT:-bench-results}
AGAINST=${AGAINST:-spikingjelly,norse}
mkdir -p "$OUT"
snn bench --model mlp --hidden-dim 512 --T 25 --batch-size 128 --against "$AGAINST" --json > "$OUT/mlp.json"
snn bench --model dense --hidden-dim 2048 --hidden-layers 3 --T 50 --batch-size 256 --against "$AGAINST" --json > "$OUT/dense.json"
snn bench --model mixer --hidden-dim 2048 --hidden-layers 3 --T 50 --batch-size 256 --p-inter 0.15 --json > "$OUT/mixer.json"
if [ -n "${TRAINED:-}" ]; then
  snn bench --model dense --hidden-dim 2048 --hidden-layers 3 --T 50 --batch-size 256 --weights "$TRAINED" \
    --json > "$OUT/dense_trained.json"
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
