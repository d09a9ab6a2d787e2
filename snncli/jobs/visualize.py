"""``snn visualize``: the figures of a trained run, each written as soon as it is drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

import torch

from ..analysis.activity import confusion, connectivity_masks, layer_names, record, routing_masks
from ..analysis.metrics import per_class_metrics
from ..config import VisualizeConfig
from ..data import iterate_batches
from ..engine.writers import write_json
from ..engine.runs import read_json
from .common import AnalysisCallbacks, AnalysisInputError, adapter, prepare


class VisualizeResult(TypedDict, total=False):
    """What ``snn visualize`` returns: the files of each figure, what was skipped and why, numbers drawn."""

    run: str
    folder: str
    files: dict[str, list[str]]
    skipped: dict[str, str]
    confusion: dict[str, Any]
    firing_rates: dict[str, float]


def visualize(cfg: VisualizeConfig, callbacks: AnalysisCallbacks | None = None) -> VisualizeResult:
    """``snn visualize``: the figures named in ``cfg.what``, each written as soon as it is drawn."""
    from .. import plots

    cb, device, run, folder = prepare(cfg, callbacks)
    if cfg.index >= len(run.test):
        raise AnalysisInputError(f"--index: {cfg.index} is past the {len(run.test)} test samples of {run.dir}")
    clf = adapter(run, cfg.seed)
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
            out.append(folder / "curves_accuracy.png")
            plots.plot_curves(history, out[-1], title=f"Accuracy\n{name}", chance=1 / len(classes))
            losses = [k for k in ("train_loss", "val_loss", "test_loss") if any(k in r for r in history)]
            if losses:
                out.append(folder / "curves_loss.png")
                plots.plot_curves(history, out[-1], keys=losses, title=f"Loss\n{name}")
        elif what == "confusion":
            data = run.test if cfg.eval_samples is None else run.test.subset(torch.arange(min(cfg.eval_samples, len(run.test))))
            clf.reseed(cfg.seed)
            cm = confusion(clf, iterate_batches(data, cfg.batch_size, shuffle=False, device=device), len(classes))
            metrics = per_class_metrics(cm, classes)
            numbers["confusion"] = {"matrix": cm.tolist(), **metrics}
            write_json(folder / "confusion.json", numbers["confusion"])
            out += [folder / "confusion.json", folder / "confusion.png"]
            plots.plot_confusion(cm, classes, out[-1], title=f"Confusion matrix, test set\n{name}")
        elif what == "weights":
            layers = {n.removesuffix(".weight"): p.detach().cpu() for n, p in run.model.named_parameters() if n.endswith("weight") and p.dim() >= 2}
            masks = {n: m for n, m in connectivity_masks(run.model).items() if n in layers and m.shape == layers[n].shape}
            out.append(folder / "weights.png")
            plots.plot_weight_histograms(layers, out[-1], title=f"Weights per layer\n{name}", masks=masks)
        elif what == "raster":
            r = recorded()
            seqs = [h[:, cfg.index] for h in r["hidden"]]
            names = list(r["names"])
            if run.cfg.enc == "rate":
                seqs, names = [r["input"][:, cfg.index]] + seqs, ["input (rate-coded)"] + names
            out.append(folder / "raster.png")
            plots.plot_layer_rasters(seqs, out[-1], names=names, classes=classes, predicted=int(r["predicted"][cfg.index]),
                                     title=f"Spikes of every layer, test sample {cfg.index} (true class: "
                                     f"{classes[int(r['y'][cfg.index])]})\n{name}")
        elif what == "membrane":
            r = recorded()
            if r["mem"] is None:
                skipped[what] = "the model does not return its output membrane"
                continue
            out.append(folder / "membrane.png")
            plots.plot_membrane(r["mem"][:, cfg.index], out[-1], threshold=run.cfg.threshold,
                                labels=classes, title=f"Output membrane, test sample {cfg.index} "
                                f"({classes[int(r['y'][cfg.index])]})\n{name}")
        elif what == "features":
            r = recorded()
            predicted = r["predicted"][: cfg.samples]
            labels = [f"{classes[int(t)]} -> {classes[int(p)]}" for t, p in zip(r["y"][: cfg.samples], predicted)]
            out.append(folder / "features.png")
            plots.plot_feature_maps(r["x"][: cfg.samples], [h[:, : cfg.samples] for h in r["hidden"]], out[-1],
                                    names=r["names"], labels=labels, classes=classes, predicted=predicted.tolist(),
                                    title=f"Firing rate per neuron, every layer (true -> predicted)\n{name}")
        elif what == "firing":
            if getattr(run.model, "spiking", True) is False or getattr(run.model, "neuron", "lif") != "lif":
                skipped[what] = "the network reports no firing rates (an ANN, or the seed's stateless heaviside network)"
                continue
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
            out.append(folder / "firing.png")
            plots.plot_firing_rates(numbers["firing_rates"], out[-1], title=f"Firing rate per layer ({n} test samples)\n{name}")
        elif what == "masks":
            masks = connectivity_masks(run.model)
            recorded()  # a forward pass, so routing layers hold their latest masks
            routing = routing_masks(run.model)
            masks.update({f"{k} (routing)": v for k, v in routing.items()})
            if not masks:
                skipped[what] = "dense model: no connectivity or routing masks"
                continue
            kinds = [k for k, present in (("G2G connectivity", len(masks) > len(routing)), ("Flex routing", routing)) if present]
            out.append(folder / "masks.png")
            plots.plot_masks(masks, out[-1], title=f"{' and '.join(kinds)} masks\n{name}")
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
    rows = read_json(path, "fix or remove it", lines=True)
    return [r for r in rows if isinstance(r, dict)]
