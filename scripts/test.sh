#!/usr/bin/env bash
# The test command: layer contract, dependency consistency, then the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] && . .venv/bin/activate
lint-imports
pip check
python -m pytest -q "$@"
