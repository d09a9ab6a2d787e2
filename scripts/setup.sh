#!/usr/bin/env bash
# One-command set-up: offline Fashion-MNIST (when apt is usable), a virtual environment, snncli + test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
  if $SUDO true 2>/dev/null; then
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq dataset-fashion-mnist \
      || echo "setup: could not install dataset-fashion-mnist; snn will download Fashion-MNIST when it has a network" >&2
  fi
fi

python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
# torch is pinned here (the CPU wheel); the package itself accepts any torch 2.x.
# torchattacks (the attack extra) requires torchvision: pin the release built for this torch, or pip would fetch
# a newer torchvision and, with it, a newer (CUDA) torch. snncli never imports torchvision eagerly.
# The ray extra lets the test suite run cross-validation folds as Ray tasks.
pip install -q torch==2.13.0 torchvision==0.28.0 -e ".[dev,ray,attack,nir,tensorboard]"
echo "setup: done; activate with: source .venv/bin/activate" >&2
