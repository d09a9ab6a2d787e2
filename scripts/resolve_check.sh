#!/usr/bin/env bash
# Issue #18: snncli installs beside jupyterlab. pip's resolver (dry run: nothing is installed) must find
# one consistent set for snncli + jupyterlab; the `attack` extra (torchattacks pins requests~=2.25,
# which jupyterlab-server cannot use) is checked separately and reported, not required.
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
