#!/usr/bin/env bash
# G2GNet seed: rerun the experiments behind its published per-epoch logs (results_p_sweep/*.txt),
# with the settings of the commit that produced them (780c0ef, evaluation/train.py + models/*_snn.py):
#   sparse models 784-1024-1024-1024-10 (three G2G-masked hidden layers, dense readout), 8 groups,
#   p_intra 1; the dense baseline 784-447-447-447-10 (its "equal-parameter" width); LIF beta 0.95,
#   fast-sigmoid slope 25, threshold 1; Bernoulli rate coding of the pixels, T 50; cross-entropy on
#   output spike counts; Adam lr 1e-3, weight decay 1e-4, batch 256, 20 epochs; all 60 000
#   training images, the 10 000 test images evaluated after every epoch.
# Most of these are `snn train`'s defaults; the script spells every one out. The seed set no random
# seed at that commit, so its logs are one draw; SEEDS="42 43 44" repeats every run per seed.
#
#   bash recipes/g2g_seed_logs.sh                    # the whole sweep: 18 sparse runs + dense
#   EPOCHS=5 MODELS="dense index random mixer" PVALUES=0.15 bash recipes/g2g_seed_logs.sh
set -euo pipefail
EPOCHS=${EPOCHS:-20}
OUT=${OUT:-runs/g2g_seed_logs}
MODELS=${MODELS:-"index mixer random dense"}
PVALUES=${PVALUES:-"0.00 0.05 0.10 0.15 0.20 0.25"}
SEEDS=${SEEDS:-42}

COMMON=(--dataset fashionmnist --epochs "$EPOCHS" --T 50 --batch-size 256 --enc rate --loss count
        --hidden-layers 3 --beta 0.95 --threshold 1 --surrogate fast_sigmoid --slope 25
        --optimizer adam --lr 1e-3 --weight-decay 1e-4 --val-fraction 0)

for seed in $SEEDS; do
  for model in $MODELS; do
    if [ "$model" = dense ]; then
      snn train --model dense --hidden-dim 447 --seed "$seed" "${COMMON[@]}" --out "$OUT/seed$seed"
      continue
    fi
    for p in $PVALUES; do
      snn train --model "$model" --hidden-dim 1024 --groups 8 --p-intra 1 --p-inter "$p" --readout dense \
        --init seed --seed "$seed" "${COMMON[@]}" --out "$OUT/seed$seed"
    done
  done
done

# Test accuracy per epoch, one line per run, as the seed's logs print it.
for metrics in "$OUT"/seed*/*/metrics.csv; do
  python3 - "$metrics" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
name = sys.argv[1].split("/")[-2]
print(f"{name:48s} " + " ".join(f"{float(r['test_acc']):.4f}" for r in rows))
PY
done
