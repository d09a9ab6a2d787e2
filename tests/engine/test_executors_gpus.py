"""GPU-aware executors, checked on any machine: which GPU each local worker sees, what a task asks for."""

import os
import time

import pytest

from snncli.engine import executors
from snncli.engine.executors import run_tasks, task_gpus


def visible_devices(*, threads):
    time.sleep(0.3)  # long enough that both workers take a task
    return {"cuda_visible": os.environ.get("CUDA_VISIBLE_DEVICES"), "pid": os.getpid()}


@pytest.mark.parametrize("device, per_task, cuda, want", [
    ("cpu", None, True, 0.0), ("cuda", None, False, 1.0), ("cuda:1", None, False, 1.0),
    ("auto", None, True, 1.0), ("auto", None, False, 0.0), ("cuda", 0.5, True, 0.5), ("cpu", 2, False, 2),
])
def test_a_task_asks_for_a_gpu_when_its_run_is_on_cuda(monkeypatch, device, per_task, cuda, want):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert task_gpus(device, per_task) == want


def test_local_workers_each_see_one_gpu_round_robin(monkeypatch):
    monkeypatch.setattr(executors, "_visible_gpus", lambda: 2)  # as if the machine had two GPUs
    results, failures = run_tasks(visible_devices, {i: () for i in range(4)}, jobs=2, gpus_per_task=1)
    assert not failures
    by_pid = {}
    for r in results.values():
        by_pid.setdefault(r["pid"], set()).add(r["cuda_visible"])
    assert all(len(seen) == 1 for seen in by_pid.values()), "a worker keeps its GPU"
    assert set().union(*by_pid.values()) <= {"0", "1"}
    if len(by_pid) == 2:
        assert set().union(*by_pid.values()) == {"0", "1"}


def test_cpu_runs_leave_cuda_visible_devices_alone(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    results, _ = run_tasks(visible_devices, {0: (), 1: ()}, jobs=2, gpus_per_task=0)
    assert {r["cuda_visible"] for r in results.values()} == {None}
