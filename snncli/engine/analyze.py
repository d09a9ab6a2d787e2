"""Analysis jobs over trained runs: attack, Hessian, landscape, gradient flow, figures, the suite.

Each entry point takes a validated config and optional :class:`AnalysisCallbacks`, reads the
run with :func:`~snncli.engine.runs.load_run`, computes with :mod:`snncli.analysis` /
:mod:`snncli.attacks`, draws with :mod:`snncli.plots`, and writes every output into the run's
``analysis/`` folder (or ``--out``) as soon as it exists, each file atomically: an interrupt
loses only the item in progress. The returned dict is what ``--json`` prints.
"""

from __future__ import annotations

import json
import math
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..analysis.activity import (
    confusion,
    connectivity_masks,
    layer_names,
    record,
    routing_masks,
)
from ..analysis.evaluation import loss_and_accuracy
from ..analysis.gradflow import gradient_flow
from ..analysis.hessian import FixedBatches, hessian_spectrum, spectral_density
from ..analysis.landscape import (
    grid_coordinates,
    loss_surface,
    random_direction,
    scaled_to_weights,
)
from ..analysis.metrics import per_class_metrics
from ..attacks import attack_class, robust_accuracy
from ..config import (
    AnalyzeConfig,
    AttackConfig,
    GradflowConfig,
    HessianConfig,
    LandscapeConfig,
    VisualizeConfig,
)
from ..data import iterate_batches
from ..models import SNNClassifier
from .checkpoint import CheckpointError, load_checkpoint
from .device import resolve_device, resolve_precision
from .runs import LoadedRun, find_checkpoint, find_runs, load_run
from .writers import write_csv, write_json, write_text_atomic


class AnalysisInputError(ValueError):
    """A run or setting the analysis cannot work with (bad input: exit 2)."""


@dataclass
class AnalysisCallbacks:
    """Hooks the analysis jobs call; every one optional. The CLI turns them into stderr lines."""

    on_log: Callable[[str], None] = lambda msg: None
    on_progress: Callable[[str, int, int], None] = lambda task, done, total: None


# ----------------------------------------------------------------------------- shared helpers


def _open(path: Path, device: torch.device, images_needed: bool = False) -> LoadedRun:
    run = load_run(path, device=device)
    if hasattr(run.model, "set_precision"):
        # As the run was trained and evaluated (bf16 products where they are fast); first-order
        # jobs run in it, the Hessian switches to fp32 (see _fp32).
        run.model.set_precision(resolve_precision(run.cfg.precision, device))
    if images_needed and run.cfg.use_resnet:
        raise AnalysisInputError(
            f"{run.dir}: a --use-resnet run reads ResNet features, not images; attacks need image inputs"
        )
    return run


def _out_dir(run: LoadedRun, out: Path | None) -> Path:
    folder = Path(out) if out is not None else run.dir / "analysis"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _adapter(run: LoadedRun, seed: int, eot: int = 1) -> SNNClassifier:
    return SNNClassifier.from_run(run.model, run.cfg, eot=eot, seed=seed)


def _prepare(cfg, callbacks: AnalysisCallbacks | None):
    """What every single-run job starts with: callbacks, device, the opened run, its output folder."""
    device = resolve_device(cfg.device)
    run = _open(cfg.run, device)
    return callbacks or AnalysisCallbacks(), device, run, _out_dir(run, cfg.out)


def _sample(run: LoadedRun, n: int, seed: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` test samples in a seeded random order (all classes mixed), on ``device``."""
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(run.test), generator=gen)[: min(n, len(run.test))]
    x, y = next(iterate_batches(run.test.subset(idx), len(idx), shuffle=False, device=device))
    return x, y


def _batches(run: LoadedRun, n_batches: int, batch_size: int, seed: int, device: torch.device) -> list:
    x, y = _sample(run, n_batches * batch_size, seed, device)
    return [(x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(x), batch_size)]


def _rel(path: Path, folder: Path) -> str:
    try:
        return str(Path(path).relative_to(folder))
    except ValueError:
        return str(path)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _fp32(run: LoadedRun) -> None:
    if hasattr(run.model, "set_precision"):
        run.model.set_precision("fp32")  # exact state and a twice-differentiable surrogate


# ----------------------------------------------------------------------------- snn attack


def select_runs(paths: Sequence[Path], top_n: int | None = None) -> list[tuple[Path, float | None]]:
    """The runs ``paths`` name (run folders, checkpoints, or folders of runs), each with its best
    validation accuracy; with ``top_n``, only the ``top_n`` best by validation accuracy.

    Raises:
        AnalysisInputError: a path that holds no run.
    """
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        try:
            found.append(find_checkpoint(p))
            continue
        except CheckpointError:
            if not p.is_dir():
                raise
        runs = find_runs(p)
        if not runs:
            raise AnalysisInputError(f"{p}: no run folders (with config.json and a checkpoint) below it")
        found += [find_checkpoint(r) for r in runs]
    scored = []
    for ckpt in dict.fromkeys(found):  # de-duplicate, keep order
        history = load_checkpoint(ckpt).get("history", [])
        vals = [r["val_acc"] for r in history if r.get("val_acc") is not None]
        scored.append((ckpt, max(vals) if vals else None))
    if top_n is not None:
        scored.sort(key=lambda t: -1.0 if t[1] is None else t[1], reverse=True)
        scored = scored[:top_n]
    return scored


def _row_writer(rows: list, settings: dict, json_path: Path, csv_path: Path, label: str, total: int,
                cb: AnalysisCallbacks) -> Callable[[dict[str, Any]], None]:
    """Append a measured eps row and rewrite that attack's JSON and CSV at once (nothing lost on interrupt)."""

    def save(row: dict[str, Any]) -> None:
        rows.append(row)
        write_json(json_path, {**settings, "results": rows})
        write_csv(csv_path, rows)
        cb.on_log(f"  {settings['attack']:7s} eps={row['eps_255']:g}/255  accuracy={row['accuracy']:.4f}  ({row['time_s']:.1f}s)")
        cb.on_progress(label, len(rows), total)

    return save


def attack(cfg: AttackConfig, callbacks: AnalysisCallbacks | None = None) -> dict[str, Any]:
    """``snn attack``: accuracy under each attack at every eps, for each selected run.

    Writes per run ``attack_<name>.json`` and ``.csv`` (rewritten after every eps) and
    ``attack.png`` (every attack of the run); with several runs also ``attack_<name>_runs.png``
    (one line per run) in ``--out``, or in ``analysis/`` beside the first run's folder.
    """
    from ..plots import plot_attack_curves

    cb = callbacks or AnalysisCallbacks()
    device = resolve_device(cfg.device)
    selected = select_runs(cfg.runs, cfg.top_n)
    many = len(selected) > 1
    results, per_attack = [], {name: {} for name in cfg.attacks}
    for ckpt, val_acc in selected:
        run = _open(ckpt, device, images_needed=True)
        name = run.checkpoint.stem
        folder = _out_dir(run, (cfg.out / name) if (cfg.out is not None and many) else cfg.out)
        clf = _adapter(run, cfg.seed, cfg.eot)
        x, y = _sample(run, cfg.sample_size, cfg.seed, device)
        cb.on_log(f"{name}: {len(x)} test samples, T={run.cfg.T} enc={run.cfg.enc} readout={run.cfg.loss}"
                  + (f" eot={cfg.eot}" if cfg.eot > 1 and clf.stochastic else "") + f", val_acc={val_acc}")
        entry = {"run": str(run.dir), "name": name, "checkpoint": str(run.checkpoint), "val_acc": val_acc,
                 "attacks": {}, "files": []}
        for atk in cfg.attacks:
            options = {"samples": cfg.spsa_samples, "lr": cfg.spsa_lr, "delta": cfg.spsa_delta} if atk == "spsa" else {}
            settings = {"attack": atk, "gradient_free": attack_class(atk).gradient_free, "steps": cfg.steps,
                        "alpha": cfg.alpha, "seed": cfg.seed, "eot": cfg.eot, "sample_size": len(x), **options,
                        "run": str(run.dir), "T": run.cfg.T, "enc": run.cfg.enc, "readout": run.cfg.loss,
                        "surrogate": run.cfg.surrogate}
            rows: list[dict[str, Any]] = []
            json_path, csv_path = folder / f"attack_{atk}.json", folder / f"attack_{atk}.csv"

            save_row = _row_writer(rows, settings, json_path, csv_path, f"{name} {atk}", len(cfg.eps), cb)
            robust_accuracy(clf, atk, x, y, cfg.eps, steps=cfg.steps, alpha=cfg.alpha, seed=cfg.seed,
                            batch_size=cfg.batch_size, options=options, on_eps=save_row)
            entry["attacks"][atk] = rows
            entry["files"] += [str(json_path), str(csv_path)]
            per_attack[atk][name] = rows
        dashed = [a for a in cfg.attacks if attack_class(a).gradient_free]
        plot = plot_attack_curves(entry["attacks"], folder / "attack.png", title=f"Accuracy under attack\n{name}", dashed=dashed)
        entry["files"].append(str(plot))
        results.append(entry)
    files = []
    if many:
        folder = Path(cfg.out) if cfg.out is not None else Path(results[0]["run"]) / "analysis"
        for atk, curves in per_attack.items():
            files.append(str(plot_attack_curves(curves, folder / f"attack_{atk}_runs.png",
                                                title=f"{atk.upper()}: accuracy under attack, {len(curves)} runs")))
    return {"eps": cfg.eps, "attacks": cfg.attacks, "runs": results, "files": files}


# ----------------------------------------------------------------------------- snn hessian


def hessian(cfg: HessianConfig, callbacks: AnalysisCallbacks | None = None) -> dict[str, Any]:
    """``snn hessian``: top eigenvalues, trace, spectral density (and per layer) at the trained weights."""
    from ..plots import plot_layer_eigenvalues, plot_spectral_density

    cb, device, run, folder = _prepare(cfg, callbacks)
    _fp32(run)
    clf = _adapter(run, cfg.seed)
    data = FixedBatches(_batches(run, cfg.batches, cfg.batch_size, cfg.seed, device), clf, cfg.seed)
    loss, acc = loss_and_accuracy(clf, data)
    cb.on_log(f"{run.checkpoint.stem}: {sum(len(y) for _, y in data.batches)} samples in {len(data)} batches, "
              f"loss {loss:.4f}, accuracy {acc:.4f}")
    start, rss0 = time.perf_counter(), _peak_rss_mb()
    timings: dict[str, float] = {}
    peaks: dict[str, float] = {}
    last = [start, None]

    def part(name: str) -> None:
        now = time.perf_counter()
        if last[1] is not None:
            timings[last[1]] = round(now - last[0], 2)
            peaks[last[1]] = round(_peak_rss_mb(), 1)  # flat across parts = no growth with iterations
        last[:] = [now, name]
        if name != "done":
            cb.on_log(f"  {name} ...")

    res = hessian_spectrum(
        clf, data, device, top_k=cfg.top_k, iters=cfg.iters, tol=cfg.tol, trace_iters=cfg.trace_iters,
        density_steps=cfg.density_steps, density_runs=cfg.density_runs, per_layer=cfg.per_layer, seed=cfg.seed,
        on_part=part,
    )
    part("done")
    res.pop("eigenvectors", None)
    out = {
        "run": str(run.dir), "loss": loss, "accuracy": acc, "samples": sum(len(y) for _, y in data.batches),
        **res, "time_s": round(time.perf_counter() - start, 2), "part_time_s": timings, "peak_rss_mb_after_part": peaks,
        "peak_rss_mb": round(_peak_rss_mb(), 1), "peak_rss_mb_before": round(rss0, 1),
        "settings": cfg.model_dump(mode="json"), "files": [],
    }
    files = [folder / "hessian.json"]
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


# ----------------------------------------------------------------------------- snn landscape


def landscape(cfg: LandscapeConfig, callbacks: AnalysisCallbacks | None = None) -> dict[str, Any]:
    """``snn landscape``: loss and accuracy on a 1-D or 2-D grid around the trained weights."""
    import numpy as np

    from ..plots import (
        plot_landscape_1d,
        plot_landscape_contour,
        plot_landscape_surface,
    )

    cb, device, run, folder = _prepare(cfg, callbacks)
    clf = _adapter(run, cfg.seed)
    data = FixedBatches(_batches(run, cfg.batches, cfg.batch_size, cfg.seed, device), clf, cfg.seed)
    params = [p for p in clf.parameters() if p.requires_grad]
    start = time.perf_counter()
    if cfg.directions == "random":
        gen = torch.Generator().manual_seed(cfg.seed)
        directions = [random_direction(clf, params, gen) for _ in range(cfg.dims)]
    else:
        _fp32(run)
        cb.on_log(f"top {cfg.dims} Hessian eigenvectors ...")
        res = hessian_spectrum(clf, data, device, top_k=cfg.dims, iters=cfg.hessian_iters, parts=("eigenvalues",), seed=cfg.seed)
        directions = [scaled_to_weights(v, params) for v in res["eigenvectors"]]
        cb.on_log("  eigenvalues " + ", ".join(f"{v:.4g}" for v in res["eigenvalues"]))
    coords = grid_coordinates(cfg.range, cfg.resolution)
    name = run.checkpoint.stem
    surface = loss_surface(clf, data, params, directions, coords,
                           on_point=lambda done, total: cb.on_progress("landscape", done, total))
    centre = (cfg.resolution // 2,) * cfg.dims
    loss0, acc0 = loss_and_accuracy(clf, data)  # the restored model: must equal the centre
    np.savez(folder / ".landscape.tmp.npz", coords=surface["coords"].numpy(), loss=surface["loss"].numpy(),
             accuracy=surface["accuracy"].numpy(), directions=cfg.directions, dims=cfg.dims)
    (folder / ".landscape.tmp.npz").replace(folder / "landscape.npz")
    files = [folder / "landscape.npz", folder / "landscape.json"]
    kind = "filter-normalised random" if cfg.directions == "random" else "top Hessian eigenvector"
    if cfg.dims == 1:
        files.append(plot_landscape_1d(coords, surface["loss"][:], surface["accuracy"], folder / "landscape_1d.png",
                                       title=f"Loss along a {kind} direction\n{name}"))
    else:
        files.append(plot_landscape_contour(coords, surface["loss"], folder / "landscape_contour.png",
                                            title=f"Loss, {kind} directions\n{name}"))
        files.append(plot_landscape_surface(coords, surface["loss"], folder / "landscape_surface.png",
                                            title=f"Loss surface, {kind} directions\n{name}"))
        files.append(plot_landscape_contour(coords, surface["accuracy"], folder / "landscape_accuracy.png",
                                            title=f"Accuracy, {kind} directions\n{name}", label="accuracy"))
    out = {
        "run": str(run.dir), "directions": cfg.directions, "dims": cfg.dims, "range": cfg.range,
        "resolution": cfg.resolution, "centre_loss": float(surface["loss"][centre]),
        "centre_accuracy": float(surface["accuracy"][centre]), "model_loss": loss0, "model_accuracy": acc0,
        "min_loss": float(surface["loss"].min()), "max_loss": float(surface["loss"].max()),
        "time_s": round(time.perf_counter() - start, 2), "files": [str(f) for f in files],
    }
    write_json(folder / "landscape.json", out)
    return out


# ----------------------------------------------------------------------------- snn gradflow


def gradflow(cfg: GradflowConfig, callbacks: AnalysisCallbacks | None = None) -> dict[str, Any]:
    """``snn gradflow``: gradient magnitude of every parameter tensor, flagged, plotted."""
    from ..plots import plot_gradient_flow

    cb, device, run, folder = _prepare(cfg, callbacks)
    clf = _adapter(run, cfg.seed)
    batches = _batches(run, cfg.batches, cfg.batch_size, cfg.seed, device)
    start = time.perf_counter()
    res = gradient_flow(clf, FixedBatches(batches, clf, cfg.seed), cfg.vanish, cfg.explode, cfg.ratio,
                        on_batch=lambda i: cb.on_progress("gradflow", i + 1, len(batches)))
    plot = plot_gradient_flow(res["layers"], folder / "gradflow.png", title=f"Gradient flow\n{run.checkpoint.stem}",
                              thresholds=res["thresholds"])
    out = {"run": str(run.dir), **res, "time_s": round(time.perf_counter() - start, 2),
           "files": [str(folder / "gradflow.json"), str(folder / "gradflow.csv"), str(plot)]}
    write_csv(folder / "gradflow.csv", [{k: v for k, v in r.items() if k != "shape"} for r in res["layers"]])
    write_json(folder / "gradflow.json", out)
    return out


# ----------------------------------------------------------------------------- snn visualize


def visualize(cfg: VisualizeConfig, callbacks: AnalysisCallbacks | None = None) -> dict[str, Any]:
    """``snn visualize``: the figures named in ``cfg.what``, each written as soon as it is drawn."""
    from .. import plots

    cb, device, run, folder = _prepare(cfg, callbacks)
    clf = _adapter(run, cfg.seed)
    name = run.checkpoint.stem
    classes = list(run.test.classes)
    files: dict[str, list[str]] = {}
    numbers: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    rec = None

    def recorded() -> dict:
        nonlocal rec
        if rec is None:
            clf.reseed(cfg.seed)
            x, y = next(iterate_batches(run.test, max(cfg.samples, cfg.index + 1), shuffle=False, device=device))
            rec = {**record(clf, x), "x": x.cpu(), "y": y.cpu()}
            rec["names"] = layer_names(run.model, len(rec["hidden"]))
        return rec

    for what in cfg.what:
        cb.on_log(f"{what} ...")
        out: list[Path] = []
        if what == "curves":
            history = run.history or _read_history(run.dir)
            if not history:
                skipped[what] = "no per-epoch history in the checkpoint or metrics.jsonl"
                continue
            out.append(plots.plot_curves(history, folder / "curves_accuracy.png", title=f"Accuracy\n{name}"))
            losses = [k for k in ("train_loss", "val_loss", "test_loss") if any(k in r for r in history)]
            if losses:
                out.append(plots.plot_curves(history, folder / "curves_loss.png", keys=losses, title=f"Loss\n{name}"))
        elif what == "confusion":
            data = run.test if cfg.eval_samples is None else run.test.subset(torch.arange(min(cfg.eval_samples, len(run.test))))
            clf.reseed(cfg.seed)
            cm = confusion(clf, iterate_batches(data, cfg.batch_size, shuffle=False, device=device), len(classes))
            metrics = per_class_metrics(cm, classes)
            numbers["confusion"] = {"matrix": cm.tolist(), **metrics}
            write_json(folder / "confusion.json", numbers["confusion"])
            out += [folder / "confusion.json", plots.plot_confusion(cm, classes, folder / "confusion.png", title=f"Confusion matrix\n{name}")]
        elif what == "weights":
            layers = {n.removesuffix(".weight"): p.detach().cpu() for n, p in run.model.named_parameters() if n.endswith("weight") and p.dim() >= 2}
            masks = {n: m for n, m in connectivity_masks(run.model).items() if n in layers and m.shape == layers[n].shape}
            out.append(plots.plot_weight_histograms(layers, folder / "weights.png", title=f"Weights per layer\n{name}", masks=masks))
        elif what == "raster":
            r = recorded()
            seqs = [h[:, cfg.index] for h in r["hidden"]]
            names = list(r["names"])
            if run.cfg.enc == "rate":
                seqs, names = [r["input"][:, cfg.index]] + seqs, ["input (rate-coded)"] + names
            out.append(plots.plot_layer_rasters(seqs, folder / "raster.png", names=names,
                                                title=f"Spikes of every layer, test sample {cfg.index} ({classes[int(r['y'][cfg.index])]})\n{name}"))
        elif what == "membrane":
            r = recorded()
            if r["mem"] is None:
                skipped[what] = "the model does not return its output membrane"
                continue
            out.append(plots.plot_membrane(r["mem"][:, cfg.index], folder / "membrane.png", threshold=run.cfg.threshold,
                                           labels=classes, title=f"Output membrane, test sample {cfg.index} "
                                           f"({classes[int(r['y'][cfg.index])]})\n{name}"))
        elif what == "features":
            r = recorded()
            counts = r["hidden"][-1].sum(0)
            labels = [f"{classes[int(t)]} -> {classes[int(p)]}" for t, p in zip(r["y"][: cfg.samples], counts.argmax(1)[: cfg.samples])]
            out.append(plots.plot_feature_maps(r["x"][: cfg.samples], [h[:, : cfg.samples] for h in r["hidden"]],
                                               folder / "features.png", names=r["names"], labels=labels,
                                               title=f"Firing rate per neuron, every layer (true -> predicted)\n{name}"))
        elif what == "firing":
            clf.reseed(cfg.seed)
            totals, n = None, 0
            with torch.no_grad():
                for x, _ in iterate_batches(run.test.subset(torch.arange(min(512, len(run.test)))), cfg.batch_size, shuffle=False, device=device):
                    rates = torch.stack([torch.as_tensor(v, dtype=torch.float32) for v in clf.sequence(x).rates]).cpu() * len(x)
                    totals = rates if totals is None else totals + rates
                    n += len(x)
            rates = (totals / n).tolist()
            names = layer_names(run.model, len(rates))
            numbers["firing_rates"] = dict(zip(names, rates))
            out.append(plots.plot_firing_rates(numbers["firing_rates"], folder / "firing.png", title=f"Firing rate per layer (512 test samples)\n{name}"))
        elif what == "masks":
            masks = connectivity_masks(run.model)
            recorded()  # a forward pass, so routing layers hold their latest masks
            routing = routing_masks(run.model)
            masks.update({f"{k} (routing)": v for k, v in routing.items()})
            if not masks:
                skipped[what] = "dense model: no connectivity or routing masks"
                continue
            kinds = [k for k, present in (("G2G connectivity", len(masks) > len(routing)), ("Flex routing", routing)) if present]
            out.append(plots.plot_masks(masks, folder / "masks.png", title=f"{' and '.join(kinds)} masks\n{name}"))
        files[what] = [str(p) for p in out]
    for what, why in skipped.items():
        cb.on_log(f"{what}: skipped ({why})")
    result = {"run": str(run.dir), "folder": str(folder), "files": files, "skipped": skipped, **numbers}
    write_json(folder / "visualize.json", {k: v for k, v in result.items() if k != "confusion"})
    return result


def _read_history(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ----------------------------------------------------------------------------- snn analyze


def analyze(cfg: AnalyzeConfig, callbacks: AnalysisCallbacks | None = None) -> dict[str, Any]:
    """``snn analyze``: every part with small settings, then ``report.md`` linking all outputs.

    A part that fails is reported (its error in the report and the result) and the others
    still run; the report is rewritten after every part.
    """
    cb, device, run, folder = _prepare(cfg, callbacks)
    common = dict(run=cfg.run, device=cfg.device, seed=cfg.seed, out=folder)
    jobs: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("visualize", lambda: visualize(VisualizeConfig(**common, what=["all"], batch_size=cfg.batch_size, eval_samples=2000), cb)),
        ("gradflow", lambda: gradflow(GradflowConfig(**common, batches=max(cfg.batches, 2), batch_size=cfg.batch_size), cb)),
        ("attack", lambda: attack(AttackConfig(
            runs=[cfg.run], attacks=["pgd", "spsa", "noise"], device=cfg.device, seed=cfg.seed, out=folder,
            eps=cfg.eps, steps=cfg.steps, sample_size=cfg.sample_size, batch_size=cfg.batch_size, spsa_samples=16), cb)),
        ("hessian", lambda: hessian(HessianConfig(**common, batches=cfg.batches, batch_size=cfg.batch_size, top_k=1,
                                                  iters=15, trace_iters=10, density_steps=10, per_layer=True), cb)),
        ("landscape", lambda: landscape(LandscapeConfig(**common, directions="random", dims=2, resolution=cfg.resolution,
                                                        batches=cfg.batches, batch_size=cfg.batch_size), cb)),
    ]
    parts: dict[str, Any] = {}
    for part, job in jobs:
        if part in cfg.skip:
            parts[part] = {"status": "skipped"}
            continue
        cb.on_log(f"== {part}")
        start = time.perf_counter()
        try:
            parts[part] = {"status": "ok", **job()}
        except (KeyboardInterrupt, CheckpointError, AnalysisInputError):
            raise
        except Exception as exc:  # one failing part must not cost the others
            parts[part] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
            cb.on_log(f"{part} failed: {parts[part]['error']}")
        parts[part]["time_s"] = round(time.perf_counter() - start, 2)
        write_text_atomic(folder / "report.md", report_markdown(run, folder, parts))
    write_text_atomic(folder / "report.md", report_markdown(run, folder, parts))
    return {"run": str(run.dir), "report": str(folder / "report.md"), "parts": parts}


def _fmt(v: Any, digits: int = 4) -> str:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.{digits}g}"
    return str(v)


def report_markdown(run: LoadedRun, folder: Path, parts: dict[str, Any]) -> str:
    """The report: one section per part, every number and a link to every figure and file."""
    c = run.cfg
    last = run.history[-1] if run.history else {}
    lines = [
        f"# Analysis of `{run.checkpoint.stem}`", "",
        f"Run folder: `{run.dir}`  ", f"Model `{c.model}` (hidden {c.hidden_dim}, T={c.T}, {c.enc} coding, "
        f"{c.loss} readout, surrogate {c.surrogate}, beta {c.beta}, threshold {c.threshold}) on `{c.dataset}`, "
        f"{len(run.history)} epoch(s).  ",
        f"Test accuracy {_fmt(last.get('test_acc'))}, best validation accuracy {_fmt(run.val_acc)}.", "",
    ]

    def link(path: str) -> str:
        rel = _rel(Path(path), folder)
        return f"![{rel}]({rel})" if rel.endswith(".png") else f"[{rel}]({rel})"

    def head(title: str, key: str) -> bool:
        p = parts.get(key)
        lines.extend([f"## {title}", ""])
        if p is None:
            lines.extend(["(not run yet)", ""])
            return False
        if p.get("status") == "skipped":
            lines.extend(["Skipped (`--skip`).", ""])
            return False
        if p.get("status") == "failed":
            lines.extend([f"**Failed**: `{p['error']}`", ""])
            return False
        lines.append(f"_{p.get('time_s', 0):.1f} s_")
        lines.append("")
        return True

    if head("Figures of the run (`snn visualize`)", "visualize"):
        v = parts["visualize"]
        if "confusion" in v:
            cm = v["confusion"]
            lines += [f"Test accuracy {_fmt(cm['accuracy'])}, macro F1 {_fmt(cm['macro']['f1'])}, "
                      f"weighted F1 {_fmt(cm['weighted']['f1'])}.", ""]
            lines += ["| class | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
            lines += [f"| {k} | {_fmt(m['precision'], 3)} | {_fmt(m['recall'], 3)} | {_fmt(m['f1'], 3)} | {m['support']} |"
                      for k, m in cm["per_class"].items()]
            lines.append("")
        if "firing_rates" in v:
            lines += ["Firing rate (spikes per neuron per step): " + ", ".join(
                f"{k} {_fmt(r, 3)}" for k, r in v["firing_rates"].items()), ""]
        for what, paths in v["files"].items():
            lines.append(f"### {what}")
            lines += [link(p) for p in paths]
            lines.append("")
        for what, why in v.get("skipped", {}).items():
            lines.append(f"- {what}: skipped ({why})")
        lines.append("")
    if head("Gradient flow (`snn gradflow`)", "gradflow"):
        g = parts["gradflow"]
        lines += ["| tensor | mean abs grad | max abs grad | flag |", "| --- | --- | --- | --- |"]
        lines += [f"| {r['name']} | {_fmt(r['mean_abs'], 3)} | {_fmt(r['max_abs'], 3)} | {r['flag']} |" for r in g["layers"]]
        lines += ["", f"Vanishing: {', '.join(g['vanishing']) or 'none'}; exploding: {', '.join(g['exploding']) or 'none'}.", ""]
        lines += [link(p) for p in g["files"]] + [""]
    if head("Adversarial robustness (`snn attack`)", "attack"):
        a = parts["attack"]
        for r in a["runs"]:
            atks = list(r["attacks"])
            lines += ["| eps (x/255) | " + " | ".join(atks) + " |", "| --- |" + " --- |" * len(atks)]
            for i, e in enumerate(a["eps"]):
                lines.append(f"| {e * 255:g} | " + " | ".join(
                    f"{_fmt(r['attacks'][k][i]['accuracy'], 3)} / {_fmt(r['attacks'][k][i]['robust_accuracy'], 3)}" for k in atks) + " |")
            lines += ["", "Each cell: accuracy on the attack's final images / worst case over every point tried "
                      "(clean image and the adversarial images at this and smaller eps). "
                      "SPSA and noise are gradient-free: if SPSA beats PGD at some eps, PGD's surrogate gradients "
                      "are misleading (gradient masking) and PGD overstates robustness.", ""]
            lines += [link(p) for p in r["files"]] + [""]
    if head("Hessian spectrum (`snn hessian`)", "hessian"):
        h = parts["hessian"]
        lines += [f"On {h['samples']} test samples (loss {_fmt(h['loss'])}): top eigenvalues "
                  + ", ".join(_fmt(e) for e in h.get("eigenvalues", [])) + f"; trace {_fmt(h.get('trace'))} "
                  f"({h.get('trace_samples')} Hutchinson samples); extreme Lanczos Ritz values "
                  + ", ".join(_fmt(e) for e in h.get("lanczos_extremes", [])) + f"; {h['parameters']:,} parameters.", ""]
        if h.get("per_layer"):
            lines += ["Per-layer top eigenvalue: " + ", ".join(f"{k} {_fmt(v)}" for k, v in h["per_layer"].items()), ""]
        lines += [link(p) for p in h["files"]] + [""]
    if head("Loss landscape (`snn landscape`)", "landscape"):
        ls = parts["landscape"]
        lines += [f"{ls['dims']}-D, {ls['directions']} directions, range +-{ls['range']}, {ls['resolution']} points a side: "
                  f"centre loss {_fmt(ls['centre_loss'])} (model {_fmt(ls['model_loss'])}), "
                  f"loss from {_fmt(ls['min_loss'])} to {_fmt(ls['max_loss'])}.", ""]
        lines += [link(p) for p in ls["files"]] + [""]
    return "\n".join(lines) + "\n"
