#!/usr/bin/env bash
# PlasticFlex seed's attack collector (run_attack_collect.py --attack PGD --top_n 1 --sample_size 128),
# with snn: train a few runs into $RUNS (skipped when they exist), attack the TOP_N best by validation
# accuracy with PGD and FGSM, SPSA and random noise beside them (gradient masking shows as SPSA < PGD),
# in one command: one plot per run with every attack, one comparison plot per attack across the runs,
# then the whole analysis suite on the best run.
# Resumable: finished training runs are skipped; attack results are rewritten per eps.
#   EPOCHS=1 bash recipes/robustness.sh                 # quick
#   RUNS=runs TOP_N=3 TRAIN=0 bash recipes/robustness.sh  # attack runs you already have
set -euo pipefail
RUNS=${RUNS:-runs/robustness}
EPOCHS=${EPOCHS:-5}
TOP_N=${TOP_N:-2}
SAMPLES=${SAMPLES:-128}
TRAIN=${TRAIN:-1}
DATASET=${DATASET:-fashionmnist}

if [ "$TRAIN" = 1 ]; then
  snn train --dataset "$DATASET" --model mlp --epochs "$EPOCHS" --batch-size 128 --out "$RUNS"
  snn train --dataset "$DATASET" --model mixer --hidden-dim 512 --T 25 --epochs "$EPOCHS" --out "$RUNS"
  snn train --dataset "$DATASET" --model dense --hidden-dim 512 --T 25 --epochs "$EPOCHS" --out "$RUNS"
fi

# The seed's eps grid for PGD ran 0..23/255; ours doubles: 0, 1, 2, 4, 8, 16 /255.
# One command: a second `snn attack` into the same folder would redraw each run's attack.png without the first's attacks.
snn attack pgd,fgsm,spsa,noise "$RUNS" --top-n "$TOP_N" --sample-size "$SAMPLES" --steps 10 --out "$RUNS/attacks" \
  --json > "$RUNS/attacks.json"

best=$(python -c 'import json, sys; runs = json.load(open(sys.argv[1]))["runs"]; print(runs[0]["run"])' "$RUNS/attacks.json")
snn analyze "$best"
python - "$RUNS/attacks.json" "$best" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
files = [f for run in result["runs"] for f in run["files"]] + result["files"]
print("written:", *files, f"{sys.argv[2]}/analysis/report.md", sep="\n  ")
PY
