#!/usr/bin/env bash
# PlasticFlex seed: its example config (configs/plasticflex_example.json, verbatim) and its MNIST
# setting (VGG-6 on [3, 28, 28]), as the seed README runs them (`python train_initialiser.py --config ...`).
#   EPOCHS=1 bash recipes/plasticflex_example.sh
set -euo pipefail
EPOCHS=${EPOCHS:-}
OUT=${OUT:-runs/plasticflex}
HERE=$(cd "$(dirname "$0")/.." && pwd)
E=${EPOCHS:+--epochs $EPOCHS}
# shellcheck disable=SC2086
snn train --config "$HERE/configs/plasticflex_example.json" --out "$OUT" $E
# shellcheck disable=SC2086
snn train --config "$HERE/configs/plasticflex_mnist_vgg6.json" --out "$OUT" $E
# The same MNIST setting on Fashion-MNIST, as ANN and as SNN with STBP:
# shellcheck disable=SC2086
snn train --config "$HERE/configs/plasticflex_mnist_vgg6.json" --dataset fashionmnist --out "$OUT" $E
# shellcheck disable=SC2086
snn train --config "$HERE/configs/plasticflex_mnist_vgg6.json" --dataset fashionmnist --spiking true --use-stbp true \
    --T 4 --lr 0.01 --out "$OUT" $E
