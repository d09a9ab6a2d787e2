#!/usr/bin/env bash
# VGG-6 on Fashion-MNIST, one epoch: Flex at every convolution (--flex-layers all, the seed) against
# Flex at the downsampling layers only, as ANN (full epoch) and as SNN (a fixed budget of batches).
# The seed's MNIST network on [3, 28, 28]; Adam lr 1e-3, batch 128 (the snn train defaults), seed 42.
#   OUT=/tmp/flexbench SNN_BATCHES=60 bash benchmarks/flex_layers_fashion.sh
set -euo pipefail
OUT=${OUT:-runs/flex_layers_fashion}
SNN_BATCHES=${SNN_BATCHES:-60}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
mkdir -p "$OUT"
down="$OUT/flex_downsample.json"
echo '{"flex_layers": "downsample"}' > "$down"
common=(--model vgg6 --dataset fashionmnist --data-root "$DATA" --in-shape 3,28,28 --epochs 1 --batch-size 128
        --use-flex --out "$OUT" --json)
log() { echo "$(date -Is) $(lscpu | sed -n 's/^Model name: *//p') load $(cut -d' ' -f1-3 /proc/loadavg) $*" >> "$OUT/log.txt"; }
for variant in all downsample; do
    extra=(); [ "$variant" = downsample ] && extra=(--config "$down")
    log "start ANN flex_layers=$variant"
    snn train "${common[@]}" "${extra[@]}" --spiking false > "$OUT/ann_$variant.json"
    log "end ANN flex_layers=$variant"
    log "start SNN flex_layers=$variant"
    snn train "${common[@]}" "${extra[@]}" --spiking true --use-stbp true --T 4 --max-batches "$SNN_BATCHES" \
        --val-fraction 0 > "$OUT/snn_$variant.json"
    log "end SNN flex_layers=$variant"
done
