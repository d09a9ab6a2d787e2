"""The Triton LIF kernels (the CUDA path) run on CPU through Triton's interpreter and equal the PyTorch loops."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_triton_kernels_match_the_torch_loops(scan_engine):
    if scan_engine != "native":
        pytest.skip("one run is enough")
    if importlib.util.find_spec("triton") is None:
        pytest.skip("triton not installed")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    script = Path(__file__).with_name("triton_check.py")
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(": ok") == 32
