"""``snn hessian``: top eigenvalues, trace and spectral density of the loss Hessian at the trained weights."""

from __future__ import annotations

import time
from typing import TypedDict

from ..analysis.evaluation import loss_and_accuracy
from ..analysis.hessian import FixedBatches, eigenvector_arrays, hessian_spectrum, spectral_density
from ..config import HessianConfig
from ..engine.device import peak_rss_mb
from ..engine.writers import write_json, write_npz
from .common import AnalysisCallbacks, AnalysisInputError, adapter, fixed_batches, prepare, use_fp32


def _peak_rss_mb() -> float | None:
    peak = peak_rss_mb()
    return None if peak is None else round(peak, 1)


class HessianResult(TypedDict, total=False):
    """What ``snn hessian`` returns (and writes to ``hessian.json``)."""

    run: str
    loss: float
    accuracy: float
    samples: int
    eigenvalues: list[float]
    trace: float
    per_layer: dict[str, float]
    parameters: int
    time_s: float
    peak_rss_mb: float | None
    files: list[str]


class _CountedBatches(FixedBatches):
    """:class:`FixedBatches` that reports each pass over the data: one pass is one Hessian-vector product."""

    def __init__(self, batches: FixedBatches, on_pass) -> None:
        super().__init__(batches.batches, batches.model, batches.seed)
        self.on_pass = on_pass

    def __iter__(self):
        self.on_pass()
        return super().__iter__()


def _most_products(cfg: HessianConfig, part: str) -> int:
    """The Hessian-vector products a part takes at most (power iteration and Hutchinson stop earlier at ``tol``)."""
    if part == "eigenvalues":
        return cfg.top_k * cfg.iters
    if part == "trace":
        return cfg.trace_iters
    if part == "density":
        return cfg.density_steps * cfg.density_runs
    return cfg.iters  # one layer's top eigenvalue


def hessian(cfg: HessianConfig, callbacks: AnalysisCallbacks | None = None) -> HessianResult:
    """``snn hessian``: top eigenvalues, trace, spectral density (and per layer) at the trained weights."""
    from ..plots import plot_layer_eigenvalues, plot_spectral_density

    cb, device, run, folder = prepare(cfg, callbacks)
    n_params = sum(p.numel() for p in run.model.parameters() if p.requires_grad)
    for option, value in (("--top-k", cfg.top_k), ("--density-steps", cfg.density_steps)):
        if value > n_params:
            raise AnalysisInputError(f"{option}: {value} is more than the {n_params} trainable parameters of {run.dir}")
    use_fp32(run)
    clf = adapter(run, cfg.seed)
    progress = {"task": None, "done": 0, "most": 0}

    def one_pass() -> None:
        if progress["task"] is not None:
            progress["done"] = min(progress["done"] + 1, progress["most"])
            cb.on_progress(progress["task"], progress["done"], progress["most"])

    draw = "numpy" if cfg.protocol == "seed" else "random"
    batches = fixed_batches(run, cfg.batches, cfg.batch_size, cfg.seed, device, cfg.split, draw)
    data = _CountedBatches(FixedBatches(batches, clf, cfg.seed), one_pass)
    loss, acc = loss_and_accuracy(clf, data)
    cb.on_log(f"{run.checkpoint.stem}: {sum(len(y) for _, y in data.batches)} {cfg.split} samples in {len(data)} batches, "
              f"loss {loss:.4f}, accuracy {acc:.4f}" + (" (the seed's protocol)" if cfg.protocol == "seed" else ""))
    start, rss0 = time.perf_counter(), _peak_rss_mb()
    timings: dict[str, float] = {}
    peaks: dict[str, float] = {}
    last = [start, None]

    def part(name: str) -> None:
        now = time.perf_counter()
        if last[1] is not None:
            timings[last[1]] = round(now - last[0], 2)
            peaks[last[1]] = _peak_rss_mb()  # flat across parts = no growth with iterations
        last[:] = [now, name]
        if progress["task"] is not None:  # stopped early (converged): the part is done
            cb.on_progress(progress["task"], progress["most"], progress["most"])
        progress.update(task=None)
        if name != "done":
            cb.on_log(f"  {name} ...")
            progress.update(task=f"Hessian {name}", done=0, most=_most_products(cfg, name))  # of at most N products

    res = hessian_spectrum(
        clf, data, device, top_k=cfg.top_k, iters=cfg.iters, tol=cfg.tol, trace_iters=cfg.trace_iters,
        density_steps=cfg.density_steps, density_runs=cfg.density_runs, per_layer=cfg.per_layer, seed=cfg.seed,
        on_part=part,
    )
    part("done")
    vectors = res.pop("eigenvectors", None)
    out = {
        "run": str(run.dir), "loss": loss, "accuracy": acc, "samples": sum(len(y) for _, y in data.batches),
        **res, "time_s": round(time.perf_counter() - start, 2), "part_time_s": timings, "peak_rss_mb_after_part": peaks,
        "peak_rss_mb": _peak_rss_mb(), "peak_rss_mb_before": rss0,
        "settings": cfg.model_dump(mode="json"), "files": [],
    }
    files = [folder / "hessian.json"]
    if cfg.save_eigenvectors and vectors:
        names = [n for n, p in clf.named_parameters() if p.requires_grad]
        write_npz(folder / "hessian_eigenvectors.npz", **eigenvector_arrays(vectors, names))
        files.append(folder / "hessian_eigenvectors.npz")
    if "density" in res:
        grid, dens = spectral_density(res["density"]["nodes"], res["density"]["weights"])
        files.append(plot_spectral_density(grid, dens, folder / "hessian_density.png",
                                           title=f"Hessian eigenvalue density\n{run.checkpoint.stem}",
                                           eigenvalues=res.get("eigenvalues", ()), nodes=res["density"]["nodes"][0]))
    if res.get("per_layer"):
        files.append(plot_layer_eigenvalues(res["per_layer"], folder / "hessian_layers.png",
                                            title=f"Top Hessian eigenvalue per layer\n{run.checkpoint.stem}"))
    out["files"] = [str(f) for f in files]
    write_json(folder / "hessian.json", out)
    return out
