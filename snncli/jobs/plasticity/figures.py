"""Every figure of the plasticity experiment, drawn by :mod:`snncli.plots` into the rule's folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ...config import TrainConfig
from ...config.plasticity import PlasticityConfig
from ...models import SNNClassifier, SpikingMLP
from .baseline import Baseline
from .common import eta_tag


def figures(run_dir: Path, cfg: PlasticityConfig, base: Baseline, model: SpikingMLP, before: dict[str, Any],
             results: dict[float, dict[str, Any]], models: dict[float, SpikingMLP], several: bool,
             device: torch.device) -> dict[str, list[str]]:
    """Every figure; returns figure file names by topic (for the report)."""
    from ... import plots
    from ...plots import plasticity as pplots

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
    out = SNNClassifier.from_run(model.eval(), tcfg, seed=tcfg.seed).sequence(x, record=True)
    img = x[0].float().mean(0) / (255.0 if not x.is_floating_point() else 1.0)
    return img.cpu(), out.hidden[0][:, 0].float().cpu(), out.hidden[-1][:, 0].float().cpu(), label
