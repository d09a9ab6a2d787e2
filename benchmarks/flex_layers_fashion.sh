#!/usr/bin/env bash
# VGG-6 on Fashion-MNIST, one epoch: Flex at every convolution (--flex-layers all, the seed) against
# Flex at the downsampling layers only, as ANN (full epoch) and as SNN (a fixed budget of batches).
# The seed's MNIST network on [3, 28, 28]; Adam lr 1e-3, batch 128 (the snn train defaults), seed 42.
# SNN: T = 4, STBP, SNN_BATCHES training batches, then BatchNorm statistics re-estimated on
# BN_BATCHES training batches (--bn-recalibrate: after so few steps the running averages lag).
#   OUT=/tmp/flexbench SNN_BATCHES=60 bash benchmarks/flex_layers_fashion.sh [ann|snn]...
set -euo pipefail
OUT=${OUT:-runs/flex_layers_fashion}
SNN_BATCHES=${SNN_BATCHES:-60}
BN_BATCHES=${BN_BATCHES:-20}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
VARIANTS=${VARIANTS:-all downsample}
KINDS=${*:-ann snn}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
mkdir -p "$OUT"
common=(--model vgg6 --dataset fashionmnist --data-root "$DATA" --in-shape 3,28,28 --epochs 1 --batch-size 128
        --use-flex --out "$OUT" --json)
log() { echo "$(date -Is) $(lscpu | sed -n 's/^Model name: *//p') load $(cut -d' ' -f1-3 /proc/loadavg) $*" >> "$OUT/log.txt"; }
for variant in $VARIANTS; do
    for kind in $KINDS; do
        log "start $kind flex_layers=$variant"
        if [ "$kind" = ann ]; then
            snn train "${common[@]}" --flex-layers "$variant" --spiking false > "$OUT/ann_$variant.json"
        else
            snn train "${common[@]}" --flex-layers "$variant" --spiking true --use-stbp true --T 4 \
                --max-batches "$SNN_BATCHES" --bn-recalibrate "$BN_BATCHES" --val-fraction 0 > "$OUT/snn_$variant.json"
        fi
        log "end $kind flex_layers=$variant"
    done
done
