"""Throughput of `snn train --nproc 2` against one process, on this machine's CPU (gloo).

Runs the same training setting (Fashion-MNIST, the G2G seed's dense 784-H-H-10 SNN, T steps, batch 256,
--max-batches B, one epoch) in turn as: 1 process x 2 threads, 1 process x 1 thread, 2 ranks x 1 thread;
REPEATS rounds, alternating, so load swings hit all alike. Reports the training samples/s of the epoch
(metrics.jsonl's samples_per_s: the training loop only, not the spawn, data loading or evaluation) and the
command's wall time, with the CPU model and the load average before each run.

Usage: python benchmarks/data_parallel.py OUT_DIR [REPEATS] [BATCHES] [HIDDEN] [T]
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path


def cpu_model() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")


def main() -> None:
    out = Path(sys.argv[1])
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    batches = sys.argv[3] if len(sys.argv) > 3 else "20"
    hidden = sys.argv[4] if len(sys.argv) > 4 else "512"
    T = sys.argv[5] if len(sys.argv) > 5 else "25"
    base = [sys.executable, "-m", "snncli", "train", "--dataset", "fashionmnist", "--model", "dense",
            "--hidden-dim", hidden, "--T", T, "--batch-size", "256", "--max-batches", batches, "--epochs", "1",
            "--val-fraction", "0", "--json"]
    variants = {"1 proc x 2 threads": ["--nproc", "1", "--threads", "2"],
                "1 proc x 1 thread": ["--nproc", "1", "--threads", "1"],
                "2 ranks x 1 thread": ["--nproc", "2", "--threads", "1"]}
    rows = []
    for rep in range(repeats):
        for name, extra in variants.items():
            folder = out / f"{rep}-{name.replace(' ', '')}"
            shutil.rmtree(folder, ignore_errors=True)
            load = open("/proc/loadavg").read().split()[:3]
            start = time.perf_counter()
            res = subprocess.run(base + extra + ["--out", str(folder)], capture_output=True, text=True)
            wall = time.perf_counter() - start
            if res.returncode:
                sys.exit(f"{name}: {res.stderr.strip().splitlines()[-1]}")
            run_dir = Path(json.loads(res.stdout)["run_dir"])
            row = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
            rows.append({"variant": name, "repeat": rep, "samples_per_s": row["samples_per_s"],
                         "train_s": row["time_s"], "wall_s": round(wall, 1), "load": " ".join(load)})
            print(json.dumps(rows[-1]), flush=True)
    summary = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "setting": " ".join(base[3:]), "rows": rows}
    (out / "data_parallel.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
