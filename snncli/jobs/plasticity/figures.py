"""Every figure of the plasticity experiment, drawn by :mod:`snncli.plots` into the rule's folder.

The seed's names: ``snn_train_test_accuracy.png``, ``cm_supervised_snn.png``, and for the gentle
(smallest) eta ``cm_post_trained_snn.png``, ``weight_hist_layer1.png``, ``weight_hist_layer2.png``,
``snn_spike_heatmaps_post_trained.png``, ``snn_hidden_activity_example_post_trained.png`` (other etas:
the same with ``_eta{tag}``); ``post_training_gentle_lr.png`` and ``post_training_strong_lr.png`` (one
trajectory each); ``figures/post_training_accuracy_strong_vs_gentle.png`` (all together) and
``figures/weight_histograms_gentle_post_training.png``, with the seed's copies of the gentle confusion
matrix and spike figures in ``figures/``; ``stdp_learning_rule.png``, the window of the ``stdp`` rule.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ...config import TrainConfig
from ...config.plasticity import PlasticityConfig
from ...data import iterate_batches
from ...models import SNNClassifier, SpikingMLP
from ...plasticity import get_rule, pair_window
from .baseline import Baseline
from .common import eta_tag, regimes

TRAJECTORY_COLORS = {"gentle": "green", "strong": "tab:red", "medium": "tab:blue"}


def trajectory_name(eta: float, regime: str) -> str:
    """``post_training_gentle_lr.png`` / ``post_training_strong_lr.png`` (``medium``: with the eta)."""
    return f"post_training_{regime}_lr_eta{eta_tag(eta)}.png" if regime == "medium" else f"post_training_{regime}_lr.png"


def figures(run_dir: Path, cfg: PlasticityConfig, base: Baseline, model: SpikingMLP, before: dict[str, Any],
            results: dict[float, dict[str, Any]], models: dict[float, SpikingMLP], device: torch.device) -> dict[str, list[str]]:
    """Every figure; returns figure file names by topic (for the report)."""
    from ... import plots
    from ...plots import plasticity as pplots

    classes = base.splits.test.classes
    names = regimes(cfg.eta)
    figs: dict[str, list[str]] = {"training": [], "confusion": [], "weights": [], "post": [], "spikes": [], "rule": []}
    if base.history:
        plots.plot_curves(base.history, run_dir / "snn_train_test_accuracy.png", keys=("train_acc", "test_acc"),
                          title="Accuracy")  # plot_curves labels the y axis with the title
        figs["training"].append("snn_train_test_accuracy.png")
    plots.plot_confusion(torch.tensor(before["cm"]), classes, run_dir / "cm_supervised_snn.png",
                         title="Supervised baseline, test set")  # the figure adds the accuracy
    figs["confusion"].append("cm_supervised_snn.png")
    before_w = {f"layer {i + 1} ({l.in_features}→{l.out_features})": l.weight for i, l in enumerate(model.layers)}
    example = _example(base, device)
    finished = sorted(results)
    gentle = min(names)
    if finished:
        pplots.plot_spike_heatmaps(*_activity(model, example, base.tcfg, device), run_dir / "snn_spike_heatmaps_baseline.png",
                                   classes=classes, title="Supervised baseline")
        figs["spikes"].append("snn_spike_heatmaps_baseline.png")
    for eta in finished:
        res, post = results[eta], models[eta]
        label = f"{cfg.rule}, η={eta_tag(eta)} ({names[eta]})"
        folders = ["", "figures/"] if eta == gentle else [""]  # the seed keeps copies of the gentle figures in figures/
        sfx = "" if eta == gentle else f"_eta{eta_tag(eta)}"
        for folder in folders:
            name = f"{folder}cm_post_trained_snn{sfx}.png"
            plots.plot_confusion(torch.tensor(res["cm"]), classes, run_dir / name,
                                 title=f"After {cfg.post_epochs} post-training epochs of {label}")
            figs["confusion"].append(name)
        for i, (key, w) in enumerate(before_w.items(), start=1):
            name = f"weight_hist_layer{i}{sfx}.png"
            plots.plot_weight_histograms({key: w}, run_dir / name, title=f"Layer {i} weights, {label}",
                                         compare={key: post.layers[i - 1].weight}, labels=("baseline", "post-trained"))
            figs["weights"].append(name)
        if eta == gentle:
            name = "figures/weight_histograms_gentle_post_training.png"
            plots.plot_weight_histograms(before_w, run_dir / name, title=f"Weights before and after post-training ({label})",
                                         compare={k: l.weight for k, l in zip(before_w, post.layers)},
                                         labels=("baseline", "post-trained"))
            figs["weights"].append(name)
        activity = _activity(post, example, base.tcfg, device)
        for folder in folders:
            name = f"{folder}snn_spike_heatmaps_post_trained{sfx}.png"
            pplots.plot_spike_heatmaps(*activity, run_dir / name, classes=classes, title=f"Post-trained ({label})")
            figs["spikes"].append(name)
            name = f"{folder}snn_hidden_activity_example_post_trained{sfx}.png"
            plots.plot_raster(activity[1], run_dir / name, title=f"Hidden layer, one test image, post-trained ({label})")
            figs["spikes"].append(name)
        traj = res["trajectory"]
        name = trajectory_name(eta, names[eta])
        pplots.plot_accuracy_trajectory([100 * r["test_acc"] for r in traj], run_dir / name,
                                        f"Test accuracy with {names[eta]} post-training (η={eta_tag(eta)})",
                                        macro_f1=[r["macro_f1"] for r in traj], color=TRAJECTORY_COLORS[names[eta]])
        figs["post"].append(name)
    if finished:
        name = "figures/post_training_accuracy_strong_vs_gentle.png"
        pplots.plot_post_training({f"{eta_tag(e)} ({names[e]})": results[e]["trajectory"] for e in finished}, run_dir / name,
                                  title=f"Unsupervised post-training with {cfg.rule} ({base.tcfg.dataset})")
        figs["post"].insert(0, name)
    span = max(5, math.ceil(5 * cfg.tau))
    lags = list(range(-span, span + 1))
    pplots.plot_learning_window(lags, pair_window(get_rule("stdp"), lags, tau=cfg.tau), run_dir / "stdp_learning_rule.png",
                                title=f"STDP learning window (stdp rule, τ = {cfg.tau:g} steps)",
                                example_lag=max(1, round(3 * cfg.tau / 2)))
    figs["rule"].append("stdp_learning_rule.png")
    return figs


def _example(base: Baseline, device: torch.device) -> tuple[torch.Tensor, int]:
    """The first test image in [0, 1] (as every batch reaches a model) and its label: the example of every spike figure."""
    x, y = next(iter(iterate_batches(base.splits.test, 1, shuffle=False, device=device)))
    return x, int(y[0])


@torch.no_grad()
def _activity(model: SpikingMLP, example: tuple[torch.Tensor, int], tcfg: TrainConfig, device: torch.device):
    """(image [H, W], hidden spikes [T, N], output spikes [T, C], label) for one example."""
    x, label = example
    out = SNNClassifier.from_run(model.eval(), tcfg, seed=tcfg.seed).sequence(x, record=True)
    return x[0].float().mean(0).cpu(), out.hidden[0][:, 0].float().cpu(), out.hidden[-1][:, 0].float().cpu(), label
