"""The files the seed study wrote, under its names and with its JSON keys, so its notebook cells read a run folder.

Names and keys are those of the seed's ``results/`` folder (no notebook cell writes them) and the
files its cells save and load (``supervised_snn_baseline.pt``, loaded by the post-training cell):

- state dicts in the seed's ``SupervisedSNN`` layout: ``supervised_snn_baseline_state_dict.pt``,
  ``supervised_snn_baseline.pt``, ``models/snn_supervised_baseline.pt``; after post-training with the
  gentle (smallest) eta ``supervised_snn_post_trained_state_dict.pt``, ``supervised_snn_post_trained.pt``,
  and per eta ``models/snn_supervised_posttrained_eta{tag}.pt``;
- ``training_curves.csv`` (``epoch,train_acc,test_acc``) and ``training_curves.json``
  (``train_acc_history``, ``test_acc_history``), percent with 2 decimals;
- ``post_training_accuracy.json``: ``{regime}_lr_eta_{tag}`` -> test accuracy in percent before
  post-training and after each epoch (``gentle_lr_eta_1e-5``, ``strong_lr_eta_1e-4``);
- ``per_class_metrics.json``: ``baseline`` and ``post_trained_eta_{tag}`` per eta, each with
  ``precision``, ``recall``, ``f1`` (lists in class order), ``macro_precision``, ``macro_recall``, ``macro_f1``;
- ``experiment_config.json``: ``model``, ``dataset``, ``num_steps_snn``, ``num_epochs_snn``,
  ``hidden_size_snn``, ``lr_snn``, ``alpha_reg``, ``post_training_epochs``, ``post_training_eta_gentle``,
  ``post_training_eta_strong``.

Everything else ``snn`` knows about a run is in ``result.json`` and ``report.md``, not added to these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ...config.plasticity import PlasticityConfig
from ...engine.writers import write_json, write_text_atomic, write_torch
from ...models import SpikingMLP
from .baseline import Baseline
from .common import eta_tag, regimes

BASELINE_STATES = ("supervised_snn_baseline_state_dict.pt", "supervised_snn_baseline.pt", "models/snn_supervised_baseline.pt")
POST_STATES = ("supervised_snn_post_trained_state_dict.pt", "supervised_snn_post_trained.pt")


def post_state_name(eta: float) -> str:
    """``models/snn_supervised_posttrained_eta1e-5.pt``: the post-trained weights of one eta."""
    return f"models/snn_supervised_posttrained_eta{eta_tag(eta)}.pt"


def seed_layout(metrics: dict[str, Any]) -> dict[str, Any]:
    """Per-class metrics as the seed's ``per_class_metrics.json`` holds them: lists in class order, then macro averages."""
    per = metrics["per_class"].values()
    return {
        "precision": [v["precision"] for v in per],
        "recall": [v["recall"] for v in per],
        "f1": [v["f1"] for v in per],
        "macro_precision": metrics["macro"]["precision"],
        "macro_recall": metrics["macro"]["recall"],
        "macro_f1": metrics["macro"]["f1"],
    }


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


def _percent(fraction: float) -> float:
    return round(100 * fraction, 2)


def write_training_curves(run_dir: Path, history: list[dict[str, Any]]) -> None:
    """``training_curves.csv`` / ``.json`` as the seed's: accuracies in percent, 2 decimals."""
    rows = [(int(r["epoch"]), _percent(r["train_acc"]), _percent(r["test_acc"])) for r in history]
    write_text_atomic(run_dir / "training_curves.csv",
                      "epoch,train_acc,test_acc\n" + "".join(f"{e},{a},{b}\n" for e, a, b in rows))
    write_json(run_dir / "training_curves.json",
               {"train_acc_history": [r[1] for r in rows], "test_acc_history": [r[2] for r in rows]})


def experiment_config(cfg: PlasticityConfig, base: Baseline) -> dict[str, Any]:
    """``experiment_config.json`` with the seed's keys (``post_training_eta_{regime}`` per regime run)."""
    t = base.tcfg
    config: dict[str, Any] = {
        "model": f"SupervisedSNN {'-'.join(map(str, base.model.sizes))} LIF",
        "dataset": t.dataset, "num_steps_snn": t.T, "num_epochs_snn": len(base.history), "hidden_size_snn": t.hidden_dim,
        "lr_snn": t.lr, "alpha_reg": t.alpha_reg, "post_training_epochs": cfg.post_epochs,
    }
    for eta, regime in regimes(cfg.eta).items():
        key = f"post_training_eta_{regime}"
        if regime == "medium":
            config.setdefault(key, []).append(eta)
        else:
            config[key] = eta
    return config


def write_baseline_files(run_dir: Path, cfg: PlasticityConfig, base: Baseline) -> None:
    """The baseline's state dicts, training curves and ``experiment_config.json``."""
    state = seed_state_dict(base.model)
    for name in BASELINE_STATES:
        write_torch(run_dir / name, state)
    write_training_curves(run_dir, base.history)
    write_json(run_dir / "experiment_config.json", experiment_config(cfg, base))


def write_post_artifacts(run_dir: Path, cfg: PlasticityConfig, before: dict[str, Any], results: dict[float, dict[str, Any]],
                         models: dict[float, SpikingMLP]) -> None:
    """The seed-named files from the etas finished so far (rewritten after each)."""
    if not results:
        return
    names = regimes(cfg.eta)
    finished = sorted(results)
    write_json(run_dir / "post_training_accuracy.json", {
        f"{names[eta]}_lr_eta_{eta_tag(eta)}": [_percent(r["test_acc"]) for r in results[eta]["trajectory"]] for eta in finished
    })
    write_json(run_dir / "per_class_metrics.json", {
        "baseline": seed_layout(before["metrics"]),
        **{f"post_trained_eta_{eta_tag(eta)}": seed_layout(results[eta]["metrics"]) for eta in finished},
    })
    for eta in finished:
        write_torch(run_dir / post_state_name(eta), seed_state_dict(models[eta]))
    gentle = min(names)
    if gentle in results:
        state = seed_state_dict(models[gentle])
        for name in POST_STATES:
            write_torch(run_dir / name, state)
