"""The plasticity experiment: a supervised SNN, then unsupervised post-training, with the seed's artifacts.

Layout of ``{out}/plasticity_{dataset}_mlp{hidden}_T{T}_{enc}/`` (or ``plasticity_from_{run}/`` with
``checkpoint``):

- ``baseline/``: the supervised baseline, an ordinary resumable ``snn train`` run (shared by every rule);
- ``{rule}/``: the run folder of one rule: every artifact the seed study wrote, the figures and
  ``report.md``; ``post_training/eta{eta}.json`` holds each finished eta (skipped when re-run);
- ``stdp_baseline/``: the network trained by STDP alone (``baseline="stdp"``).

The engine never prints: progress goes to :class:`PlasticityCallbacks`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..analysis.metrics import confusion_matrix, per_class_metrics
from ..config import TrainConfig
from ..config.plasticity import PlasticityConfig
from ..data import DataSplits, ImageSet, encode, iterate_batches, load_dataset
from ..models import SpikingMLP, create_model, logits_of
from ..models.reference import SnnTorchMLP
from ..plasticity import (
    assign_classes,
    get_rule,
    normalize_rows,
    predict_by_assignment,
    update_thresholds,
    wta_spikes,
)
from ..plasticity.rules import stdp
from .checkpoint import CheckpointError
from .device import resolve_device, seed_everything
from .runs import load_run
from .trainer import Callbacks, RunPaths, clip_parameters, epoch_generator, train
from .writers import write_json, write_text_atomic

BASELINE_STATE = "supervised_snn_baseline_state_dict.pt"
POST_STATE = "supervised_snn_post_trained_state_dict"
RULES_VERSION = 2  # part of every post-training fingerprint: bump when a rule's arithmetic changes


class PlasticityInputError(ValueError):
    """Input the experiment cannot use (e.g. a checkpoint of another architecture); nothing was written."""


@dataclass
class PlasticityCallbacks:
    """Progress hooks; every one optional. ``train`` receives the baseline's training progress."""

    train: Callbacks = field(default_factory=Callbacks)
    on_log: Callable[[str], None] = lambda msg: None
    on_post_start: Callable[[float, int, int], None] = lambda eta, epoch, batches: None
    on_post_batch: Callable[[int], None] = lambda batch: None
    on_post_epoch: Callable[[dict[str, Any]], None] = lambda row: None


def eta_tag(eta: float) -> str:
    """``1e-05`` for 1e-5, ``0.0001`` for 1e-4: Python's shortest ``g`` spelling, used in file names."""
    return f"{eta:g}"


# ---------------------------------------------------------------------------------------------- evaluation


@torch.no_grad()
def evaluate_classifier(model: torch.nn.Module, data: ImageSet, tcfg: TrainConfig, device: torch.device) -> dict[str, Any]:
    """Test accuracy, confusion matrix and per-class metrics (scikit-learn's definitions)."""
    model.eval()
    gen = epoch_generator(tcfg.seed, 10_002, device)  # the encodings trainer.evaluate uses on the test set
    preds, targets = [], []
    for x, y in iterate_batches(data, 1000, shuffle=False, device=device):
        out = model(encode(x, tcfg.T, tcfg.enc, tcfg.enc_scale, tcfg.enc_bias, generator=gen))
        preds.append(logits_of(out, tcfg.loss).argmax(1).cpu())
        targets.append(y.cpu())
    cm = confusion_matrix(torch.cat(preds), torch.cat(targets), data.num_classes)
    metrics = per_class_metrics(cm, data.classes)
    return {"acc": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"], "cm": cm.tolist(), "metrics": metrics}


def seed_layout(metrics: dict[str, Any]) -> dict[str, Any]:
    """Per-class metrics as the seed's ``per_class_metrics.json`` lists them (lists in class order + macro)."""
    per = metrics["per_class"]
    return {
        "classes": list(per),
        "precision": [v["precision"] for v in per.values()],
        "recall": [v["recall"] for v in per.values()],
        "f1": [v["f1"] for v in per.values()],
        "support": [v["support"] for v in per.values()],
        "macro_precision": metrics["macro"]["precision"],
        "macro_recall": metrics["macro"]["recall"],
        "macro_f1": metrics["macro"]["f1"],
        "accuracy": metrics["accuracy"],
    }


# ---------------------------------------------------------------------------------------------- the baseline


@dataclass
class Baseline:
    model: SpikingMLP
    tcfg: TrainConfig
    history: list[dict[str, Any]]
    splits: DataSplits
    source: str  # the run folder it came from


def _as_two_layer_mlp(model: torch.nn.Module, tcfg: TrainConfig, path: Path) -> SpikingMLP:
    """The checkpoint's network as a dense 2-layer :class:`SpikingMLP`, or a one-line refusal."""
    if tcfg.use_resnet:
        raise PlasticityInputError(f"--checkpoint: {path} reads ResNet features, not images; plasticity needs in-hidden-classes on pixels")
    if isinstance(model, SnnTorchMLP):  # an `--engine snntorch` run: same weights, rebuild as the fused model
        masks = [getattr(model, f"mask{i}") for i in range(len(model.linears))]
        if len(model.linears) == 2 and all(m is None for m in masks):
            mlp = create_model("mlp", in_shape=(model.linears[0].in_features,), num_classes=model.linears[1].out_features,
                               hidden_dim=model.linears[0].out_features, T=tcfg.T, beta=tcfg.beta,
                               threshold=tcfg.threshold, surrogate=tcfg.surrogate)
            for dst, src in zip(mlp.layers, model.linears):
                dst.weight.data.copy_(src.weight.data)
                dst.bias.data.copy_(src.bias.data)
            return mlp
    if isinstance(model, SpikingMLP) and len(model.layers) == 2 and all(l.mask is None for l in model.layers):
        return model
    sizes = getattr(model, "sizes", None)
    shape = "-".join(map(str, sizes)) if sizes else type(model).__name__
    raise PlasticityInputError(
        f"--checkpoint: {path} is a {tcfg.model} network ({shape}); plasticity needs a dense "
        "input-hidden-classes spiking MLP (model mlp)"
    )


def supervised_baseline(cfg: PlasticityConfig, cb: PlasticityCallbacks, device: torch.device) -> Baseline:
    """Train (resume, or reuse) the supervised baseline, or load it from ``cfg.checkpoint``."""
    if cfg.checkpoint is not None:
        try:
            run = load_run(cfg.checkpoint, device)
        except CheckpointError as exc:
            raise PlasticityInputError(f"--checkpoint: {exc}") from None
        model = _as_two_layer_mlp(run.model, run.cfg, run.checkpoint).to(device)
        splits = load_dataset(run.cfg.dataset, run.cfg.data_root)
        if model.layers[0].in_features != math.prod(splits.train.shape) or model.layers[1].out_features != splits.train.num_classes:
            raise PlasticityInputError(f"--checkpoint: {run.checkpoint} does not fit {run.cfg.dataset}'s images and classes")
        cb.on_log(f"baseline: {run.checkpoint} (epoch {len(run.history)})")
        return Baseline(model, run.cfg, run.history, splits, str(run.dir))
    tcfg = cfg.train_config()
    splits = load_dataset(tcfg.dataset, tcfg.data_root)
    paths = RunPaths(experiment_dir(cfg) / "baseline", tcfg.run_name())
    train(tcfg, cb.train, data=splits, paths=paths)
    run = load_run(paths.dir, device, data=splits.test)
    return Baseline(run.model, run.cfg, run.history, splits, str(paths.dir))


def experiment_dir(cfg: PlasticityConfig) -> Path:
    if cfg.checkpoint is not None:
        run = Path(cfg.checkpoint)
        name = run.parent.name if run.is_file() else run.name
        return cfg.out / f"plasticity_from_{name}"
    return cfg.out / cfg.folder_name()


def seed_state_dict(model: SpikingMLP) -> dict[str, torch.Tensor]:
    """The weights in the seed notebook's ``SupervisedSNN`` layout (``fc1``, ``lif1``, ``fc2``, ``lif2``).

    The ``lif`` entries are the buffers ``snntorch.Leaky`` keeps, so the seed's class loads the file
    with ``load_state_dict`` as it is (strict).
    """
    import snntorch

    state: dict[str, torch.Tensor] = {}
    for i, layer in enumerate(model.layers, start=1):
        state[f"fc{i}.weight"] = layer.effective_weight().detach().cpu().clone()
        state[f"fc{i}.bias"] = layer.bias.detach().cpu().clone()
        lif = snntorch.Leaky(beta=model.lif.beta, threshold=model.lif.threshold)
        state.update({f"lif{i}.{k}": v.clone() for k, v in lif.state_dict().items()})
    return state


def _fingerprint(model: SpikingMLP, cfg: PlasticityConfig) -> str:
    """What a post-training result depends on: the baseline's weights and the post-training settings."""
    h = hashlib.sha1()
    for v in model.state_dict().values():
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    h.update(json.dumps([RULES_VERSION, cfg.rule, cfg.tau, cfg.post_epochs, cfg.batch_size, cfg.max_batches, cfg.seed, cfg.weight_clip]).encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------- post-training


@torch.no_grad()
def post_train_epoch(
    model: SpikingMLP, data: ImageSet, tcfg: TrainConfig, rule: Callable[..., torch.Tensor], eta: float,
    params: dict[str, float], batch_size: int, clip: float | None, generator: torch.Generator,
    max_batches: int | None = None, on_batch: Callable[[int], None] = lambda i: None,
) -> int:
    """One unsupervised pass: every batch changes every layer by ``rule`` from its pre/post spikes; labels unused.

    Returns:
        The number of batches applied.
    """
    model.eval()
    device = next(model.parameters()).device
    n = 0
    for i, (x, _) in enumerate(iterate_batches(data, batch_size, shuffle=True, generator=generator, device=device)):
        if max_batches is not None and i >= max_batches:
            break
        x_seq = encode(x, tcfg.T, tcfg.enc, tcfg.enc_scale, tcfg.enc_bias, generator=generator)
        out = model(x_seq, record=True)
        pres = [x_seq.flatten(2), *out.hidden[:-1]]
        # Every update from this batch's activity first, then applied: layers change together.
        deltas = [rule(pre, post, layer.weight, eta, **params) for layer, pre, post in zip(model.layers, pres, out.hidden)]
        for layer, dw in zip(model.layers, deltas):
            layer.weight.add_(dw)
        if clip is not None:
            clip_parameters(model, clip)
        on_batch(i)
        n += 1
    return n


def _rule_params(rule: Callable[..., torch.Tensor], cfg: PlasticityConfig) -> dict[str, float]:
    accepted = inspect.signature(rule).parameters
    return {k: v for k, v in {"tau": cfg.tau}.items() if k in accepted}


def run_eta(
    baseline: Baseline, cfg: PlasticityConfig, eta: float, before: dict[str, Any], device: torch.device,
    cb: PlasticityCallbacks,
) -> tuple[dict[str, Any], SpikingMLP]:
    """Post-train a copy of the baseline with one ``eta``; evaluate after every epoch."""
    import copy

    model = copy.deepcopy(baseline.model).to(device)
    rule = get_rule(cfg.rule)
    params = _rule_params(rule, cfg)
    train_set = baseline.splits.train.to(device)
    test_set = baseline.splits.test.to(device)
    batches = math.ceil(len(train_set) / cfg.batch_size)
    if cfg.max_batches:
        batches = min(batches, cfg.max_batches)
    rows = [{"epoch": 0, "test_acc": before["acc"], "macro_f1": before["macro_f1"]}]
    last = before
    start = time.perf_counter()
    for epoch in range(cfg.post_epochs):
        cb.on_post_start(eta, epoch, batches)
        gen = torch.Generator(device=device).manual_seed(cfg.seed * 1_000_003 + epoch)
        t0 = time.perf_counter()
        post_train_epoch(model, train_set, baseline.tcfg, rule, eta, params, cfg.batch_size, cfg.weight_clip, gen,
                         cfg.max_batches, cb.on_post_batch)
        last = evaluate_classifier(model, test_set, baseline.tcfg, device)
        row = {"eta": eta, "epoch": epoch + 1, "test_acc": last["acc"], "macro_f1": last["macro_f1"],
               "weight_norm": [layer.weight.norm().item() for layer in model.layers], "time_s": round(time.perf_counter() - t0, 3)}
        rows.append({k: row[k] for k in ("epoch", "test_acc", "macro_f1", "weight_norm", "time_s")})
        cb.on_post_epoch(row)
    result = {
        "eta": eta, "rule": cfg.rule, "trajectory": rows, "final": {"test_acc": last["acc"], "macro_f1": last["macro_f1"]},
        "cm": last["cm"], "metrics": last["metrics"], "time_s": round(time.perf_counter() - start, 3),
    }
    return result, model


# ---------------------------------------------------------------------------------------------- the pipeline


def run_plasticity(cfg: PlasticityConfig, callbacks: PlasticityCallbacks | None = None) -> dict[str, Any]:
    """The whole experiment of ``cfg`` (supervised baseline + post-training, or the STDP-only baseline).

    Returns:
        The result dict (accuracies as fractions), also written to ``result.json`` in the run folder.

    Raises:
        PlasticityInputError: a checkpoint that is not a dense two-layer spiking MLP.
        CheckpointError: the baseline folder holds a run of other settings.
    """
    cb = callbacks or PlasticityCallbacks()
    if cfg.baseline == "stdp":
        return run_stdp_baseline(cfg, cb)
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    start = time.perf_counter()
    base = supervised_baseline(cfg, cb, device)
    model = base.model.to(device).eval()
    run_dir = experiment_dir(cfg) / cfg.rule
    (run_dir / "post_training").mkdir(parents=True, exist_ok=True)
    test_set = base.splits.test.to(device)
    before = evaluate_classifier(model, test_set, base.tcfg, device)
    cb.on_log(f"baseline: test_acc={before['acc']:.4f} macro_f1={before['macro_f1']:.4f}")
    torch.save(seed_state_dict(model), run_dir / BASELINE_STATE)
    _write_training_curves(run_dir, base.history)
    write_json(run_dir / "experiment_config.json", _experiment_config(cfg, base))

    several = len(cfg.eta) > 1
    fingerprint = _fingerprint(model, cfg)
    results: dict[float, dict[str, Any]] = {}
    models: dict[float, SpikingMLP] = {}
    for eta in cfg.eta:
        tag = eta_tag(eta)
        record = run_dir / "post_training" / f"eta{tag}.json"
        state_file = run_dir / "post_training" / f"eta{tag}.pt"
        if record.exists() and state_file.exists() and not cfg.force:
            stored = json.loads(record.read_text())
            if stored.get("fingerprint") == fingerprint:
                cb.on_log(f"eta {tag}: finished before; skipping (use --force to redo)")
                results[eta] = stored
                models[eta] = _load_into(model, torch.load(state_file, map_location=device))
                continue
        result, post_model = run_eta(base, cfg, eta, before, device, cb)
        result["fingerprint"] = fingerprint
        torch.save(post_model.state_dict(), state_file)
        write_json(record, result)  # last: its presence means this eta is done
        results[eta], models[eta] = result, post_model
        _write_post_artifacts(run_dir, cfg, before, results, models, several)

    _write_post_artifacts(run_dir, cfg, before, results, models, several)
    figures = _figures(run_dir, cfg, base, model, before, results, models, several, device)
    summary = _summary(cfg, base, before, results, run_dir, time.perf_counter() - start)
    write_text_atomic(run_dir / "report.md", _report(cfg, base, before, results, figures, several, run_dir))
    write_json(run_dir / "result.json", summary)
    return summary


def _load_into(template: SpikingMLP, state: dict[str, torch.Tensor]) -> SpikingMLP:
    import copy

    model = copy.deepcopy(template)
    model.load_state_dict(state)
    return model.eval()


def _write_training_curves(run_dir: Path, history: list[dict[str, Any]]) -> None:
    """``training_curves.csv`` / ``.json`` in the seed's form: accuracies in percent."""
    rows = [(int(r["epoch"]), 100 * r["train_acc"], 100 * r["test_acc"]) for r in history]
    csv = "epoch,train_acc,test_acc\n" + "".join(f"{e},{a:.4f},{b:.4f}\n" for e, a, b in rows)
    write_text_atomic(run_dir / "training_curves.csv", csv)
    write_json(run_dir / "training_curves.json", {
        "epoch": [r[0] for r in rows], "train_acc_history": [r[1] for r in rows], "test_acc_history": [r[2] for r in rows],
        "unit": "percent",
    })


def _experiment_config(cfg: PlasticityConfig, base: Baseline) -> dict[str, Any]:
    t = base.tcfg
    return {
        # The seed notebook's names, for notebooks that read them.
        "dataset": t.dataset, "num_steps_snn": t.T, "num_epochs_snn": len(base.history), "hidden_size": t.hidden_dim,
        "beta": t.beta, "batch_size": t.batch_size, "learning_rate": t.lr, "alpha_reg": t.alpha_reg,
        "weight_clip": t.weight_clip, "post_training_rule": cfg.rule, "post_training_epochs": cfg.post_epochs,
        "post_training_etas": cfg.eta,
        # Everything, as validated.
        "plasticity": cfg.model_dump(mode="json"), "baseline_train_config": t.model_dump(mode="json"),
        "baseline_run": base.source,
    }


def _write_post_artifacts(run_dir: Path, cfg: PlasticityConfig, before: dict[str, Any], results: dict[float, dict[str, Any]],
                          models: dict[float, SpikingMLP], several: bool) -> None:
    """The seed-named files from the etas finished so far (rewritten after each)."""
    if not results:
        return
    finished = [e for e in cfg.eta if e in results]
    first = finished[0]
    acc = {"rule": cfg.rule, "post_epochs": cfg.post_epochs, "unit": "percent",
           "note": "per eta: test accuracy before post-training, then after each post-training epoch"}
    for eta in finished:
        traj = results[eta]["trajectory"]
        acc[f"eta_{eta_tag(eta)}"] = [100 * r["test_acc"] for r in traj]
        acc.setdefault("macro_f1", {})[f"eta_{eta_tag(eta)}"] = [r["macro_f1"] for r in traj]
    write_json(run_dir / "post_training_accuracy.json", acc)
    write_json(run_dir / "per_class_metrics.json", {
        "rule": cfg.rule, "post_trained_eta": first,
        "baseline": seed_layout(before["metrics"]),
        "post_trained": seed_layout(results[first]["metrics"]),
        "post_trained_by_eta": {eta_tag(e): seed_layout(results[e]["metrics"]) for e in finished},
    })
    torch.save(seed_state_dict(models[first]), run_dir / f"{POST_STATE}.pt")
    if several:
        for eta in finished:
            torch.save(seed_state_dict(models[eta]), run_dir / f"{POST_STATE}_eta{eta_tag(eta)}.pt")


def _figures(run_dir: Path, cfg: PlasticityConfig, base: Baseline, model: SpikingMLP, before: dict[str, Any],
             results: dict[float, dict[str, Any]], models: dict[float, SpikingMLP], several: bool,
             device: torch.device) -> dict[str, list[str]]:
    """Every figure; returns figure file names by topic (for the report)."""
    from .. import plots
    from ..plots import plasticity as pplots

    classes = base.splits.test.classes
    figs: dict[str, list[str]] = {"training": [], "confusion": [], "weights": [], "post": [], "spikes": []}
    if base.history:
        plots.plot_curves(base.history, run_dir / "snn_train_test_accuracy.png", keys=("train_acc", "test_acc"),
                          title="Accuracy")  # plot_curves labels the y axis with the title
        figs["training"].append("snn_train_test_accuracy.png")
    plots.plot_confusion(torch.tensor(before["cm"]), classes, run_dir / "cm_supervised_snn.png",
                         title="Supervised baseline, test set")  # the figure adds the accuracy
    figs["confusion"].append("cm_supervised_snn.png")
    before_w = {f"layer {i + 1} ({l.in_features}→{l.out_features})": l.weight for i, l in enumerate(model.layers)}
    example = _example(base, device)
    for k, eta in enumerate(e for e in cfg.eta if e in results):
        sfx = f"_eta{eta_tag(eta)}" if several else ""
        res, post = results[eta], models[eta]
        name = f"cm_post_trained_snn{sfx}.png"
        plots.plot_confusion(torch.tensor(res["cm"]), classes, run_dir / name,
                             title=f"After {cfg.post_epochs} post-training epochs of {cfg.rule}, η={eta:g}")
        figs["confusion"].append(name)
        for i, (key, w) in enumerate(before_w.items(), start=1):
            name = f"weight_hist_layer{i}{sfx}.png"
            plots.plot_weight_histograms({key: w}, run_dir / name, title=f"Layer {i} weights, {cfg.rule} η={eta:g}",
                                         compare={key: post.layers[i - 1].weight}, labels=("baseline", "post-trained"))
            figs["weights"].append(name)
        name = f"snn_spike_heatmaps_post_trained{sfx}.png"
        pplots.plot_spike_heatmaps(*_activity(post, example, base.tcfg, device), run_dir / name, classes=classes,
                                   title=f"Post-trained ({cfg.rule}, η={eta:g})")
        figs["spikes"].append(name)
        name = f"snn_hidden_activity_example_post_trained{sfx}.png"
        hidden = _activity(post, example, base.tcfg, device)[1]
        plots.plot_raster(hidden, run_dir / name, title=f"Hidden layer, one test image, post-trained ({cfg.rule}, η={eta:g})")
        figs["spikes"].append(name)
        if k == 0:
            name = "snn_spike_heatmaps_baseline.png"
            pplots.plot_spike_heatmaps(*_activity(model, example, base.tcfg, device), run_dir / name, classes=classes,
                                       title="Supervised baseline")
            figs["spikes"].insert(0, name)
    if results:
        traj = {eta_tag(e): results[e]["trajectory"] for e in cfg.eta if e in results}
        pplots.plot_post_training(traj, run_dir / "post_training_accuracy.png",
                                  title=f"Post-training with {cfg.rule} ({base.tcfg.dataset})")
        figs["post"].append("post_training_accuracy.png")
    return figs


def _example(base: Baseline, device: torch.device) -> tuple[torch.Tensor, int]:
    """The first test image (and its label): the same example in every spike figure."""
    return base.splits.test.x[:1].to(device), int(base.splits.test.y[0])


@torch.no_grad()
def _activity(model: SpikingMLP, example: tuple[torch.Tensor, int], tcfg: TrainConfig, device: torch.device):
    """(image [H, W], hidden spikes [T, N], output spikes [T, C], label) for one example."""
    x, label = example
    gen = torch.Generator(device=device).manual_seed(tcfg.seed)
    out = model.eval()(encode(x, tcfg.T, tcfg.enc, tcfg.enc_scale, tcfg.enc_bias, generator=gen), record=True)
    img = x[0].float().mean(0) / (255.0 if not x.is_floating_point() else 1.0)
    return img.cpu(), out.hidden[0][:, 0].float().cpu(), out.hidden[-1][:, 0].float().cpu(), label


def _summary(cfg: PlasticityConfig, base: Baseline, before: dict[str, Any], results: dict[float, dict[str, Any]],
             run_dir: Path, elapsed: float) -> dict[str, Any]:
    return {
        "status": "finished", "run_dir": str(run_dir), "baseline_run": base.source, "rule": cfg.rule,
        "dataset": base.tcfg.dataset, "baseline_epochs": len(base.history),
        "baseline": {"test_acc": before["acc"], "macro_f1": before["macro_f1"],
                     "train_acc": base.history[-1]["train_acc"] if base.history else None},
        "post_training": {
            eta_tag(e): {"test_acc": [r["test_acc"] for r in results[e]["trajectory"]],
                         "macro_f1": [r["macro_f1"] for r in results[e]["trajectory"]],
                         "time_s": results[e].get("time_s")}
            for e in cfg.eta if e in results
        },
        "time_s": round(elapsed, 3),
    }


def _report(cfg: PlasticityConfig, base: Baseline, before: dict[str, Any], results: dict[float, dict[str, Any]],
            figs: dict[str, list[str]], several: bool, run_dir: Path) -> str:
    t = base.tcfg
    lines = [
        f"# Post-training plasticity: {cfg.rule} on {t.dataset}",
        "",
        f"A {'-'.join(map(str, base.model.sizes))} LIF network (beta {t.beta}, T {t.T}, {t.enc} input) trained with surrogate-gradient "
        f"BPTT for {len(base.history)} epochs (Adam {t.lr:g}, batch {t.batch_size}, cross-entropy on output spike counts, "
        f"spike-activity penalty alpha {t.alpha_reg:g}, weights clipped to ±{t.weight_clip}), then changed with no labels by the "
        f"`{cfg.rule}` rule for {cfg.post_epochs} passes over the training set"
        + (f" (each capped at {cfg.max_batches} batches of {cfg.batch_size})" if cfg.max_batches else "")
        + ", every layer, same clipping. "
        f"Baseline run: `{base.source}`.",
        "",
        "## Supervised baseline",
        "",
        f"- test accuracy **{100 * before['acc']:.2f}%**, macro F1 **{before['macro_f1']:.4f}**"
        + (f", final train accuracy {100 * base.history[-1]['train_acc']:.2f}%" if base.history else ""),
        "",
    ]
    if base.history:
        lines += ["| epoch | train acc (%) | test acc (%) |", "| ---: | ---: | ---: |"]
        lines += [f"| {r['epoch']} | {100 * r['train_acc']:.2f} | {100 * r['test_acc']:.2f} |" for r in base.history]
        lines += ["", *(f"![{f}]({f})" for f in figs["training"]), ""]
    lines += ["## Post-training", "",
              f"Test accuracy (%) and macro F1 before post-training (epoch 0) and after each epoch of `{cfg.rule}`; "
              "every eta starts from the baseline weights.", ""]
    header = "| eta | " + " | ".join(f"epoch {i}" for i in range(cfg.post_epochs + 1)) + " | macro F1 before → after |"
    lines += [header, "|" + " ---: |" * (cfg.post_epochs + 3)]
    for eta in (e for e in cfg.eta if e in results):
        traj = results[eta]["trajectory"]
        accs = " | ".join(f"{100 * r['test_acc']:.2f}" for r in traj)
        lines.append(f"| {eta:g} | {accs} | {traj[0]['macro_f1']:.4f} → {traj[-1]['macro_f1']:.4f} |")
    lines += ["", *(f"![{f}]({f})" for f in figs["post"]), ""]
    lines += ["## Per-class metrics", "", "Precision, recall and F1 per class (scikit-learn's definitions), baseline → post-trained "
              f"(η={next(iter(e for e in cfg.eta if e in results), cfg.eta[0]):g}); all of them in `per_class_metrics.json`.", ""]
    first = next((e for e in cfg.eta if e in results), None)
    if first is not None:
        lines += ["| class | precision | recall | F1 |", "| --- | ---: | ---: | ---: |"]
        b, p = before["metrics"]["per_class"], results[first]["metrics"]["per_class"]
        for c in b:
            lines.append(f"| {c} | {b[c]['precision']:.3f} → {p[c]['precision']:.3f} | {b[c]['recall']:.3f} → {p[c]['recall']:.3f} "
                         f"| {b[c]['f1']:.3f} → {p[c]['f1']:.3f} |")
        lines.append("")
    lines += ["## Figures", "",
              "Confusion matrices (rows: true class, colour: share of the row):", "", *(f"![{f}]({f})" for f in figs["confusion"]), "",
              "Weight histograms per layer, baseline against post-trained:", "", *(f"![{f}]({f})" for f in figs["weights"]), "",
              "Spikes for the first test image: the input, the hidden layer over time, the output spike count per class; "
              "and the hidden-layer raster:", "", *(f"![{f}]({f})" for f in figs["spikes"]), ""]
    stdp_only = run_dir.parent / "stdp_baseline" / "result.json"
    if stdp_only.exists():
        s = json.loads(stdp_only.read_text())
        lines += ["## STDP-only baseline", "",
                  f"The same hidden layer trained by STDP alone and read out by neuron-to-class assignment: "
                  f"test accuracy **{100 * s['test_acc']:.2f}%**, macro F1 {s['macro_f1']:.4f} (`{stdp_only.parent}`).", ""]
    lines += ["## Files", "",
              f"- `{BASELINE_STATE}`, `{POST_STATE}.pt` (η={cfg.eta[0]:g})"
              + (f", `{POST_STATE}_eta<η>.pt` per eta" if several else "")
              + ": weights in the seed notebook's `SupervisedSNN` layout (`fc1`, `lif1`, `fc2`, `lif2`)",
              "- `training_curves.csv` / `.json`, `post_training_accuracy.json`, `per_class_metrics.json`: accuracies in percent, "
              "as the seed wrote them",
              "- `experiment_config.json`: every setting; `post_training/eta<η>.json`: each eta's full record",
              ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- STDP only


@torch.no_grad()
def _hidden_counts(data: ImageSet, weight: torch.Tensor, theta: torch.Tensor, T: int, gen: torch.Generator,
                   max_batches: int | None, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    counts, labels = [], []
    for i, (x, y) in enumerate(iterate_batches(data, 1000, shuffle=False, device=device)):
        if max_batches is not None and i >= max_batches:
            break
        spikes = wta_spikes(encode(x, T, "rate", generator=gen).flatten(2), weight, theta)
        counts.append(spikes.sum(0))
        labels.append(y)
    return torch.cat(counts), torch.cat(labels)


def run_stdp_baseline(cfg: PlasticityConfig, cb: PlasticityCallbacks | None = None) -> dict[str, Any]:
    """The hidden layer trained by STDP alone (Diehl & Cook 2015 style), read out by class assignment.

    Inputs are rate coded (Bernoulli spikes with the pixel intensity as probability per step). The
    layer of ``hidden_dim`` neurons fires one winner per sample and step (:func:`wta_spikes`),
    learns by potentiation-only STDP (``stdp`` with ``a_minus = 0``: the pre-synaptic trace at each
    post spike), with each neuron's weights renormalised to a fixed sum (which is what depresses
    the inputs it does not see) and adaptive thresholds. Labels are used only afterwards, to name
    each neuron by the class it fires most for; a test image gets the class whose neurons fire most.
    """
    cb = cb or PlasticityCallbacks()
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    start = time.perf_counter()
    run_dir = experiment_dir(cfg) / "stdp_baseline"
    run_dir.mkdir(parents=True, exist_ok=True)
    splits = load_dataset(cfg.dataset, cfg.data_root)
    train_set, test_set = splits.train.to(device), splits.test.to(device)
    n_in = math.prod(train_set.shape)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    total = 0.1 * n_in  # Diehl & Cook: 78 for 784 inputs
    weight = normalize_rows(torch.rand(cfg.hidden_dim, n_in, generator=gen, device=device), total)
    theta = torch.zeros(cfg.hidden_dim, device=device)
    batches = math.ceil(len(train_set) / cfg.batch_size)
    if cfg.max_batches:
        batches = min(batches, cfg.max_batches)
    history = []
    for epoch in range(cfg.stdp_epochs):
        cb.on_post_start(cfg.stdp_eta, epoch, batches)
        t0 = time.perf_counter()
        for i, (x, _) in enumerate(iterate_batches(train_set, cfg.batch_size, shuffle=True, generator=gen, device=device)):
            if i >= batches:
                break
            in_seq = encode(x, cfg.T, "rate", generator=gen).flatten(2)
            post = wta_spikes(in_seq, weight, theta)
            weight = normalize_rows(weight + stdp(in_seq, post, weight, cfg.stdp_eta, tau=cfg.tau, a_minus=0.0), total)
            theta = update_thresholds(theta, post, theta_plus=STDP_THETA_PLUS, decay=STDP_THETA_DECAY)
            cb.on_post_batch(i)
        counts, labels = _hidden_counts(train_set, weight, theta, cfg.T, gen, math.ceil(ASSIGN_SAMPLES / 1000), device)
        assignments = assign_classes(counts, labels, train_set.num_classes)
        test_counts, test_labels = _hidden_counts(test_set, weight, theta, cfg.T, gen, None, device)
        pred = predict_by_assignment(test_counts, assignments, train_set.num_classes)
        cm = confusion_matrix(pred, test_labels, train_set.num_classes)
        metrics = per_class_metrics(cm, test_set.classes)
        row = {"epoch": epoch + 1, "test_acc": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"],
               "neurons_used": int((assignments >= 0).sum()), "time_s": round(time.perf_counter() - t0, 3)}
        history.append(row)
        cb.on_post_epoch({"eta": cfg.stdp_eta, **row})
    torch.save({"fc1.weight": weight.cpu(), "theta": theta.cpu(), "assignments": assignments.cpu()},
               run_dir / "stdp_baseline_state_dict.pt")
    write_json(run_dir / "per_class_metrics.json", {"stdp_baseline": seed_layout(metrics)})
    from .. import plots
    from ..plots import plasticity as pplots

    plots.plot_confusion(cm, test_set.classes, run_dir / "cm_stdp_baseline.png",
                         title="STDP only, neuron-to-class readout, test set")
    pplots.plot_receptive_fields(weight.cpu(), train_set.shape, assignments.cpu(), test_set.classes,
                                 run_dir / "stdp_receptive_fields.png", title="Weights learned by STDP, labelled by assigned class")
    result = {
        "status": "finished", "run_dir": str(run_dir), "baseline": "stdp", "dataset": cfg.dataset,
        "test_acc": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"], "history": history,
        "settings": {"hidden_dim": cfg.hidden_dim, "T": cfg.T, "epochs": cfg.stdp_epochs, "eta": cfg.stdp_eta, "tau": cfg.tau,
                     "weight_sum": total, "theta_plus": STDP_THETA_PLUS, "theta_decay": STDP_THETA_DECAY, "encoding": "rate"},
        "time_s": round(time.perf_counter() - start, 3),
    }
    write_json(run_dir / "result.json", result)
    write_json(run_dir / "experiment_config.json", cfg.model_dump(mode="json"))
    write_text_atomic(run_dir / "report.md", "\n".join([
        f"# STDP-only baseline on {cfg.dataset}", "",
        f"{n_in}-{cfg.hidden_dim} layer, rate-coded input over T={cfg.T} steps, one winner per sample and step, "
        f"potentiation-only STDP (eta {cfg.stdp_eta:g}, tau {cfg.tau:g} steps), weights renormalised to sum {total:g} "
        f"per neuron, adaptive thresholds; {cfg.stdp_epochs} epoch(s). Read out by assigning each neuron to the class it fires "
        "most for (training labels used only for that).", "",
        f"- test accuracy **{100 * metrics['accuracy']:.2f}%**, macro F1 **{metrics['macro']['f1']:.4f}**, "
        f"{row['neurons_used']} of {cfg.hidden_dim} neurons ever fired", "",
        "![confusion](cm_stdp_baseline.png)", "", "![receptive fields](stdp_receptive_fields.png)", "",
    ]) + "\n")
    return result


# Homeostasis: theta gains STDP_THETA_PLUS per batch per fair share of the layer's spikes and decays by
# STDP_THETA_DECAY per batch; the equilibrium (15 per fair share) is of the order of the drive difference
# between a learned prototype and an untrained neuron (~25), so unused neurons get their turn.
STDP_THETA_PLUS = 0.15
STDP_THETA_DECAY = 0.99
ASSIGN_SAMPLES = 10_000  # training images whose responses name the neurons (labels used only here)
