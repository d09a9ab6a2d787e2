#!/usr/bin/env bash
# G2GNet seed, CIFAR: the seed README's CIFAR-10/100 commands, with the frozen ResNet-32 features.
# Needs the CIFAR python batches (see docs/data.md). The backbone is trained once per dataset.
set -euo pipefail
EPOCHS=${EPOCHS:-30}
BACKBONE_EPOCHS=${BACKBONE_EPOCHS:-30}
OUT=${OUT:-runs/g2g-cifar}

for dataset in cifar10 cifar100; do
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/snncli/backbones/resnet32_${dataset}.pt"
  [ -f "$cache" ] || snn backbone train --dataset "$dataset" --epochs "$BACKBONE_EPOCHS"
done

snn train --dataset cifar10 --model dense --epochs "$EPOCHS" --out "$OUT"
snn train --dataset cifar10 --model mixer --use_resnet --epochs "$EPOCHS" --out "$OUT"
snn train --dataset cifar10 --model index --use_resnet --p_inter 0.20 --epochs "$EPOCHS" --out "$OUT"
snn train --dataset cifar100 --model mixer --use_resnet --p_inter 0.20 --epochs $((EPOCHS + 10)) --out "$OUT"
snn train --dataset cifar100 --model random --use_resnet --p_inter 0.15 --epochs "$EPOCHS" --out "$OUT"
snn train --dataset cifar10 --model mixer --use_resnet --sparsity_mode dynamic --cp hebb --cg hebb --epochs "$EPOCHS" --out "$OUT"
snn train --dataset cifar10 --model index --use_resnet --sparsity_mode dynamic --cp set --cg hebb --epochs "$EPOCHS" --out "$OUT"
