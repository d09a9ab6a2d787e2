#!/usr/bin/env bash
# PlasticFlex seed's attack collector (run_attack_collect.py --attack PGD --top_n 1 --sample_size 128),
# with snn: train a few runs into $RUNS (skipped when they exist), attack the TOP_N best by validation
# accuracy with PGD and FGSM, SPSA beside them (gradient masking shows as SPSA < PGD), one comparison
# plot per attack, then the whole analysis suite on the best run.
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
snn attack pgd,fgsm "$RUNS" --top-n "$TOP_N" --sample-size "$SAMPLES" --steps 10 --out "$RUNS/attacks"
snn attack spsa,noise "$RUNS" --top-n "$TOP_N" --sample-size "$SAMPLES" --steps 10 --out "$RUNS/attacks"

best=$(snn attack noise "$RUNS" --top-n 1 --eps 0 --sample-size 1 --out "$RUNS/attacks/.best" --json \
  | python -c 'import json, sys; print(json.load(sys.stdin)["runs"][0]["run"])')
snn analyze "$best"
echo "attack tables: $RUNS/attacks/*/attack_*.csv; comparison plots: $RUNS/attacks/attack_*_runs.png; report: $best/analysis/report.md"
