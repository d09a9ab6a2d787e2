"""Throughput and memory of the fused engine against the per-step snnTorch loop (and, on request,
SpikingJelly and Norse twins of the same network).

Every implementation gets the same weights, the same batch and the same device, in one
process, and is timed the same way: warm-up steps first, then repeats, taken in turn
(snn, snnTorch, peers, snn, ...) so that a change of machine load hits all of them alike; the
report gives min, median and max per implementation, the load average before and after, and
a warning when either makes the ratios unreliable.
Peak memory on CPU is the growth of the resident set during one training step, each
implementation measured in a fresh process whose allocator unmaps every block of 64 KiB or
more when it is freed, so the resident set follows live tensors; on CUDA it is
``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
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
from ..errors import SnnError
from ..models import create_model, logits_of, model_defaults
from ..models.mlp import SpikingMLP
from ..models.peers import PEERS, peer_installed
from ..models.reference import SnnTorchMLP
from ..neurons import _native
from .epoch import fusable
from .device import keep_freed_memory, resolve_device, return_freed_memory, resolve_precision, seed_everything
from .graphs import graphed_step
from . import provenance

IMPLEMENTATIONS = ("snn", "reference")

#: A ratio is flagged when the load average exceeds this share of the CPUs, or when the spread
#: (max - min) / median of any implementation's repeats exceeds SPREAD_WARN.
LOAD_WARN = 0.75
SPREAD_WARN = 0.15


class BenchInputError(SnnError, ValueError):
    """A bench request that cannot run as asked (a peer library that is not installed, weights that
    do not fit): one line and exit 2 in the CLI."""


@dataclass
class _Setup:
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    x: torch.Tensor
    y: torch.Tensor


def _deepen(model: SpikingMLP, cfg: BenchConfig, learn_beta: bool = False, learn_threshold: bool = False) -> SpikingMLP:
    """``model`` with ``cfg.hidden_layers`` hidden layers of its hidden width, for builders without
    that option. G2G masks are drawn per layer at ``cfg.p_inter`` with index grouping: the cost of
    a masked product depends on its density, not on which groups it joins."""
    from ..sparsity import g2g_groupings, g2g_mask

    sizes = [model.sizes[0], *[model.sizes[1]] * cfg.hidden_layers, model.sizes[-1]]
    masks = None
    if any(layer.mask is not None for layer in model.layers):
        gen = torch.Generator().manual_seed(cfg.seed)
        masks = [g2g_mask(g.pre, g.post, cfg.p_inter, gen) for g in g2g_groupings(sizes, "index", cfg.groups, gen)]
    return SpikingMLP(sizes, masks, model.lif, model.T, learn_beta=learn_beta, learn_threshold=learn_threshold)


def _build(cfg: BenchConfig) -> SpikingMLP:
    kwargs = dict(
        in_shape=(1, 28, 28), num_classes=10, hidden_dim=cfg.hidden_dim, T=cfg.T,
        p_inter=cfg.p_inter, groups=cfg.groups, mask_seed=cfg.seed,
    )
    if cfg.hidden_layers is not None and "hidden_layers" in model_defaults(cfg.model):
        return create_model(cfg.model, **kwargs, hidden_layers=cfg.hidden_layers)
    state = None
    if cfg.weights:
        from .checkpoint import CheckpointError, load_weights  # the one reader: weights_only, one-line refusals

        try:
            state = load_weights(cfg.weights)
        except CheckpointError as exc:
            raise BenchInputError(f"--weights {exc}") from None
        state = state.get("model", state) if isinstance(state, dict) else state
        # a network trained with learned neurons carries their values: build it the same way
        kwargs["learn_beta"] = any(k.endswith(".beta") for k in state)
        kwargs["learn_threshold"] = any(k.endswith(".threshold") for k in state)
    model = create_model(cfg.model, **kwargs)
    if cfg.hidden_layers is not None and isinstance(model, SpikingMLP) and cfg.hidden_layers != len(model.layers) - 1:
        model = _deepen(model, cfg, kwargs.get("learn_beta", False), kwargs.get("learn_threshold", False))
    if state is not None:
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise BenchInputError(f"--weights {cfg.weights}: does not fit this network ({first})") from None
    return model


def _batch(cfg: BenchConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The benchmark batch: random pixels and labels, or the first test images of ``cfg.data`` (pixel units)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    if cfg.data is None:
        return torch.rand(cfg.batch_size, 1, 28, 28, generator=gen), torch.randint(0, 10, (cfg.batch_size,), generator=gen)
    from ..data import load_dataset

    test = load_dataset(cfg.data, download=False).test
    if tuple(test.x.shape[1:]) != (1, 28, 28) or len(test.y) < cfg.batch_size:
        raise BenchInputError(f"--data {cfg.data}: needs at least {cfg.batch_size} test images of shape 1x28x28, "
                              f"has {len(test.y)} of {'x'.join(map(str, test.x.shape[1:]))}")
    x = test.x[: cfg.batch_size]
    return (x.float() / 255 if x.dtype == torch.uint8 else x.float()), test.y[: cfg.batch_size].clone()


def _setup(cfg: BenchConfig, impl: str, device: torch.device) -> _Setup:
    seed_everything(cfg.seed)
    model = _build(cfg)
    if impl == "reference":
        model = SnnTorchMLP(model)
    elif impl in PEERS:
        model = PEERS[impl].build(model)
    else:
        model.set_precision(resolve_precision(cfg.precision, device))
    model = model.to(device)
    x, y = _batch(cfg)
    x, y = x.to(device), y.to(device)
    # snn's step uses the optimizer `snn train` builds: torch's fused Adam on CPU (one kernel for all
    # parameters); the reference and the peers the per-tensor Adam their tutorials use. On CUDA
    # the snn step is replayed as a CUDA graph: its optimizer must be capturable.
    params = list(model.parameters())
    if impl == "snn" and device.type == "cuda":
        opt = torch.optim.Adam(params, lr=1e-3, capturable=True)
    elif impl == "snn" and fusable(params):
        opt = torch.optim.Adam(params, lr=1e-3, fused=True)
    else:
        opt = torch.optim.Adam(params, lr=1e-3)
    return _Setup(model, opt, x, y)


def _graphed_snn_step(s: _Setup, cfg: BenchConfig, gen: torch.Generator) -> tuple[Callable[[], Any], str]:
    """snn's training step as a CUDA graph (encoding outside: one encoded batch replayed)."""
    x_seq = encode(s.x, cfg.T, cfg.enc, generator=gen)

    def step(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        loss = F.cross_entropy(logits_of(s.model(xb), "count"), yb)
        s.optimizer.zero_grad(set_to_none=False)
        loss.backward()
        s.optimizer.step()
        return loss.detach()

    run, how = graphed_step(step, x_seq, s.y)
    return partial(run, x_seq, s.y), how


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


def _steps_per_repeat(step: Callable[[], Any], cfg: BenchConfig, device: torch.device) -> int:
    """Warm up, then pick enough steps per repeat that timer resolution and one-off stalls do not matter."""
    for _ in range(cfg.warmup):
        step()
    _sync(device)
    if cfg.steps is not None:
        return cfg.steps
    t0 = time.perf_counter()
    step()
    _sync(device)
    return max(1, min(1000, round(cfg.min_repeat_s / max(time.perf_counter() - t0, 1e-6))))


def _time_repeat(step: Callable[[], Any], steps: int, batch: int, device: torch.device) -> float:
    """Samples per second over one repeat of ``steps`` steps."""
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return steps * batch / (time.perf_counter() - t0)


def _summary(rates: list[float]) -> dict[str, float]:
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def _throughputs(steps: dict[str, Callable[[], Any]], cfg: BenchConfig, device: torch.device) -> dict[str, dict]:
    """Time every implementation's step function; repeats taken in turn when ``cfg.interleave``."""
    counts = {name: _steps_per_repeat(fn, cfg, device) for name, fn in steps.items()}
    rates: dict[str, list[float]] = {name: [] for name in steps}
    order = [list(steps)] * cfg.repeats if cfg.interleave else [[name] * cfg.repeats for name in steps]
    for names in order:
        for name in names:
            rates[name].append(_time_repeat(steps[name], counts[name], cfg.batch_size, device))
    return {name: {**_summary(r), "repeats": r, "steps_per_repeat": counts[name]} for name, r in rates.items()}


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


def cpu_model() -> str:
    """The CPU's model name (``lscpu``'s; the architecture where none is known), for the record beside every figure."""
    return provenance.cpu_model() or platform.machine()


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages, or ``None`` where the OS has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def busy_cpus(seconds: float = 1.0) -> float | None:
    """How many CPUs the machine's processes keep busy over the next ``seconds`` (``/proc/stat``, steal
    time counted as busy), sampled while this process sleeps: what other work uses *now*. The 1-minute
    load average still counts a process that ended seconds ago, e.g. the previous row of
    back-to-back benches. ``None`` where there is no ``/proc/stat``."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
        return sum(fields), fields[3] + fields[4]

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return round((total - (idle1 - idle0)) / total * (os.cpu_count() or 1), 2) if total > 0 else None


def _ratio(a: dict, b: dict) -> dict[str, float]:
    """a / b for the median, and the worst and best case the repeats allow."""
    return {"median": a["median"] / b["median"], "min": a["min"] / b["max"], "max": a["max"] / b["min"]}


def _warnings(out: dict[str, Any], impls: list[str]) -> list[str]:
    notes = []
    cpus = os.cpu_count() or 1
    # Before the run: the CPUs busy just then (the 1-minute load average where that was not sampled).
    # The 1-minute load after the timed steps includes the bench's own threads: count only the rest.
    own = min(out.get("threads") or 1, cpus) if out.get("device") == "cpu" else 0
    if out.get("busy_before") is not None:
        before = out["busy_before"]
    else:
        before = out["load_before"][0] if out["load_before"] else 0.0
    after = max(0.0, out["load_after"][0] - own) if out["load_after"] else 0.0
    others = max(before, after)
    if others > LOAD_WARN * cpus:
        notes.append(
            f"other processes kept up to {others:.2f} of {cpus} CPUs busy (just before the run; after it the "
            f"load average less the bench's own {own} threads): they competed for the cores; absolute speeds "
            "are low and ratios uncertain"
        )
    for impl in impls:
        for kind in ("train", "infer"):
            r = out[impl][f"{kind}_summary"]
            spread = (r["max"] - r["min"]) / r["median"]
            if spread > SPREAD_WARN:
                notes.append(f"{impl} {kind}: repeats spread {spread:.0%} of the median; use the min-max ratio range")
    return notes


def run_bench(cfg: BenchConfig, on_log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """Measure every implementation; return figures (min, median, max), ratios to snnTorch, the
    first-step loss of each, the CPU model, the load average and warnings."""
    for peer in cfg.against:
        if not peer_installed(peer):
            raise BenchInputError(
                f"--against {peer}: {PEERS[peer].package} is not installed "
                f"(pip install {PEERS[peer].package} torch=={torch.__version__.split('+')[0]})"
            )
    device = resolve_device(cfg.device)
    allocator = keep_freed_memory() if cfg.allocator == "caching" else False
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    impls = list(IMPLEMENTATIONS if cfg.reference else IMPLEMENTATIONS[:1]) + list(cfg.against)
    load_before, busy_before = load_average(), busy_cpus()
    step_kind = "eager"
    setups: dict[str, _Setup] = {}
    first_loss: dict[str, float] = {}
    train_steps, infer_steps = {}, {}
    for impl in impls:
        on_log(f"{impl}: set-up")
        s = setups[impl] = _setup(cfg, impl, device)
        gen = torch.Generator(device=device).manual_seed(cfg.seed)
        first_loss[impl] = _train_step(s, cfg, gen).item()
        train_steps[impl] = partial(_train_step, s, cfg, gen)
        infer_steps[impl] = partial(_infer_step, s, cfg, gen)
        if impl == "snn" and device.type == "cuda":
            train_steps[impl], step_kind = _graphed_snn_step(s, cfg, gen)
            on_log(f"snn training step: {step_kind}")
    on_log("training throughput: " + ", ".join(impls) + (" in turn" if cfg.interleave else ""))
    train = _throughputs(train_steps, cfg, device)
    on_log("inference throughput")
    infer = _throughputs(infer_steps, cfg, device)
    snn_model = setups["snn"].model
    products = [getattr(layer, "last_product", "dense") for layer in getattr(snn_model, "layers", [])]
    events = [p == "events" for p in products]
    with torch.no_grad():  # the rates the timed steps ran at (they decide the event-driven layers)
        rates = [round(r.item(), 5) for r in snn_model(encode(setups["snn"].x, cfg.T, cfg.enc)).rates]
    setups.clear()
    results: dict[str, dict[str, Any]] = {}
    for impl in impls:
        mem = None
        if cfg.memory:
            on_log(f"{impl}: peak memory")
            mem = peak_train_memory(cfg, impl, device)
        results[impl] = {
            "train_samples_per_s": train[impl]["median"], "train_range": [train[impl]["min"], train[impl]["max"]],
            "infer_samples_per_s": infer[impl]["median"], "infer_range": [infer[impl]["min"], infer[impl]["max"]],
            "train_summary": train[impl], "infer_summary": infer[impl],
            "peak_train_bytes": mem, "first_step_loss": first_loss[impl],
        }
    out: dict[str, Any] = {
        "config": cfg.model_dump(mode="json"),
        "device": str(device),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "precision": resolve_precision(cfg.precision, device),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "caching_allocator": allocator,
        "native_kernels": _native.status() if device.type == "cpu" else "n/a (Triton kernels on CUDA)",
        "snn_train_step": step_kind,
        "snn_rates": rates,
        "snn_event_layers": events,
        "snn_products": products,
        "semantics": {p: PEERS[p].semantics for p in cfg.against},
        "load_before": load_before,
        "busy_before": busy_before,
        "load_after": load_average(),
        **results,
    }
    if "reference" in results:
        b = results["reference"]
        out["ratios"] = {}
        for impl in impls:
            if impl == "reference":
                continue
            a = results[impl]
            out["ratios"][impl] = {
                "train": _ratio(a["train_summary"], b["train_summary"]),
                "infer": _ratio(a["infer_summary"], b["infer_summary"]),
                "peak_memory": (a["peak_train_bytes"] / b["peak_train_bytes"])
                if a["peak_train_bytes"] and b["peak_train_bytes"] else None,
            }
        r = out["ratios"]["snn"]
        out["ratio"] = {"train": r["train"]["median"], "infer": r["infer"]["median"], "peak_memory": r["peak_memory"]}
        out["first_step_loss_diff"] = abs(results["snn"]["first_step_loss"] - b["first_step_loss"])
    out["warnings"] = _warnings(out, impls)
    return out
