#!/usr/bin/env bash
# Issue #18: snncli installs beside jupyterlab. pip's resolver (dry run: nothing is installed) must find
# one consistent set for snncli + jupyterlab (measured 2026-12-02: jupyterlab 4.6.6, requests 2.34.2).
# The `attack` extra is checked separately and reported, not required: torchattacks 3.5.1 pins
# requests~=2.25.1, and pip resolves it only by backtracking to jupyterlab 3.5.3 (2022).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] && . .venv/bin/activate
torch_pin="torch==$(python -c 'import torch; print(torch.__version__.split("+")[0])')"
pip install --dry-run --quiet "$torch_pin" -e . jupyterlab
echo "resolve: snncli + jupyterlab: ok" >&2
if pip install --dry-run --quiet "$torch_pin" torchvision==0.28.0 -e ".[attack]" jupyterlab 2>/dev/null; then
    echo "resolve: snncli[attack] + jupyterlab: ok" >&2
else
    echo "resolve: snncli[attack] + jupyterlab: does not resolve (torchattacks' requests pin); install the attack extra in its own environment" >&2
fi
