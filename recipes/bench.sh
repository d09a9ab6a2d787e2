#!/usr/bin/env bash
# The benchmark rows of benchmarks/README.md (issue: fast engine). JSON per row into $OUT.
set -euo pipefail
OUT=${OUT:-bench-results}
mkdir -p "$OUT"
snn bench --model mlp --hidden-dim 512 --T 25 --batch-size 128 --enc current --json > "$OUT/mlp.json"
snn bench --model dense --hidden-dim 2048 --T 50 --batch-size 256 --json > "$OUT/dense.json"
snn bench --model mixer --hidden-dim 2048 --T 50 --batch-size 256 --p-inter 0.15 --json > "$OUT/mixer.json"
for f in "$OUT"/*.json; do
  python3 - "$f" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); c = r["config"]; q = r["ratio"]
mem = "n/a" if q["peak_memory"] is None else f"{q['peak_memory']:.2f}x"
print(f"{c['model']:6s} train {r['snn']['train_samples_per_s']:9.1f} vs {r['reference']['train_samples_per_s']:8.1f} samples/s "
      f"= {q['train']:.2f}x  inference {q['infer']:.2f}x  peak memory {mem}  ({r['device']}, {r['precision']})")
PY
done
