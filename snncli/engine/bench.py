"""Throughput and memory of the fused engine against the per-step snnTorch loop.

Both implementations get the same weights, the same batch and the same device, in one
process, and are timed the same way: warm-up steps first, then the median of repeats.
Peak memory on CPU is the growth of the resident set during one training step, each
implementation measured in a fresh process whose allocator unmaps every block of 64 KiB or
more when it is freed, so the resident set follows live tensors; on CUDA it is
``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import multiprocessing as mp
import re
import statistics
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ..config.bench import BenchConfig
from ..data import encode
from ..models import create_model
from ..models.reference import SnnTorchMLP
from .device import keep_freed_memory, resolve_device, return_freed_memory, resolve_precision, seed_everything
from ..models import logits_of

IMPLEMENTATIONS = ("snn", "reference")


@dataclass
class _Setup:
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    x: torch.Tensor
    y: torch.Tensor


def _setup(cfg: BenchConfig, impl: str, device: torch.device) -> _Setup:
    seed_everything(cfg.seed)
    model = create_model(
        cfg.model, in_shape=(1, 28, 28), num_classes=10, hidden_dim=cfg.hidden_dim, T=cfg.T,
        p_inter=cfg.p_inter, groups=cfg.groups, mask_seed=cfg.seed,
    )
    if impl == "reference":
        model = SnnTorchMLP(model)
    else:
        model.set_precision(resolve_precision(cfg.precision, device))
    model = model.to(device)
    gen = torch.Generator().manual_seed(cfg.seed)
    x = torch.rand(cfg.batch_size, 1, 28, 28, generator=gen).to(device)
    y = torch.randint(0, 10, (cfg.batch_size,), generator=gen).to(device)
    return _Setup(model, torch.optim.Adam(model.parameters(), lr=1e-3), x, y)


def _train_step(s: _Setup, cfg: BenchConfig, gen: torch.Generator) -> torch.Tensor:
    out = s.model(encode(s.x, cfg.T, cfg.enc, generator=gen))
    loss = F.cross_entropy(logits_of(out, "count"), s.y)
    s.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    s.optimizer.step()
    return loss.detach()


@torch.no_grad()
def _infer_step(s: _Setup, cfg: BenchConfig, gen: torch.Generator) -> torch.Tensor:
    return s.model(encode(s.x, cfg.T, cfg.enc, generator=gen)).spikes.sum()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _throughput(step: Callable[[], Any], cfg: BenchConfig, device: torch.device) -> dict[str, float]:
    for _ in range(cfg.warmup):
        step()
    _sync(device)
    steps = cfg.steps
    if steps is None:
        # Enough steps per repeat that timer resolution and one-off stalls do not matter.
        t0 = time.perf_counter()
        step()
        _sync(device)
        steps = max(1, min(1000, round(cfg.min_repeat_s / max(time.perf_counter() - t0, 1e-6))))
    rates = []
    for _ in range(cfg.repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        _sync(device)
        rates.append(steps * cfg.batch_size / (time.perf_counter() - t0))
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return int(re.search(rf"{field}:\s+(\d+)", f.read()).group(1))


def _peak_child(cfg_json: str, impl: str, queue) -> None:
    cfg = BenchConfig.model_validate_json(cfg_json)
    torch.set_num_threads(cfg.threads or torch.get_num_threads())
    try:
        return_freed_memory()  # the resident set then follows live memory, for both implementations
        device = torch.device("cpu")
        s = _setup(cfg, impl, device)
        gen = torch.Generator().manual_seed(cfg.seed)
        base = _rss_kib("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the high-water mark to the current RSS
        _train_step(s, cfg, gen)
        queue.put((_rss_kib("VmHWM") - base) * 1024)
    except Exception as exc:  # reported, not raised: a benchmark row shows "n/a"
        queue.put(f"{type(exc).__name__}: {exc}")


def peak_train_memory(cfg: BenchConfig, impl: str, device: torch.device) -> int | None:
    """Bytes of extra memory one training step needs (activations, gradients, temporaries)."""
    if device.type == "cuda":
        s = _setup(cfg, impl, device)
        gen = torch.Generator(device=device).manual_seed(cfg.seed)
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        _train_step(s, cfg, gen)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    if device.type != "cpu":
        return None
    try:
        open("/proc/self/clear_refs", "w").close()
    except OSError:
        return None  # not Linux, or no permission to reset the high-water mark
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peak_child, args=(cfg.model_dump_json(), impl, queue))
    proc.start()
    proc.join()
    out = queue.get() if not queue.empty() else None
    return out if isinstance(out, int) else None


def run_bench(cfg: BenchConfig, on_log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """Measure both implementations; return figures, ratios and the first-step loss of each."""
    device = resolve_device(cfg.device)
    allocator = keep_freed_memory() if cfg.allocator == "caching" else False
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    impls = IMPLEMENTATIONS if cfg.reference else IMPLEMENTATIONS[:1]
    results: dict[str, dict[str, Any]] = {}
    for impl in impls:
        on_log(f"{impl}: training throughput")
        s = _setup(cfg, impl, device)
        gen = torch.Generator(device=device).manual_seed(cfg.seed)
        first_loss = _train_step(s, cfg, gen).item()
        train = _throughput(partial(_train_step, s, cfg, gen), cfg, device)
        on_log(f"{impl}: inference throughput")
        infer = _throughput(partial(_infer_step, s, cfg, gen), cfg, device)
        del s
        on_log(f"{impl}: peak memory")
        mem = peak_train_memory(cfg, impl, device) if cfg.memory else None
        results[impl] = {
            "train_samples_per_s": train["median"], "train_range": [train["min"], train["max"]],
            "infer_samples_per_s": infer["median"], "peak_train_bytes": mem, "first_step_loss": first_loss,
        }
    out: dict[str, Any] = {
        "config": cfg.model_dump(mode="json"),
        "device": str(device),
        "precision": resolve_precision(cfg.precision, device),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "caching_allocator": allocator,
        **results,
    }
    if "reference" in results:
        a, b = results["snn"], results["reference"]
        out["ratio"] = {
            "train": a["train_samples_per_s"] / b["train_samples_per_s"],
            "infer": a["infer_samples_per_s"] / b["infer_samples_per_s"],
            "peak_memory": (a["peak_train_bytes"] / b["peak_train_bytes"])
            if a["peak_train_bytes"] and b["peak_train_bytes"] else None,
        }
        out["first_step_loss_diff"] = abs(a["first_step_loss"] - b["first_step_loss"])
    return out
