"""The files the seed study wrote, in its names and layouts (state dicts, curves in percent, metrics lists)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ...config.plasticity import PlasticityConfig
from ...engine.writers import write_json, write_text_atomic, write_torch
from ...models import SpikingMLP
from .baseline import Baseline
from .common import eta_tag

BASELINE_STATE = "supervised_snn_baseline_state_dict.pt"
POST_STATE = "supervised_snn_post_trained_state_dict"


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


def write_training_curves(run_dir: Path, history: list[dict[str, Any]]) -> None:
    """``training_curves.csv`` / ``.json`` in the seed's form: accuracies in percent."""
    rows = [(int(r["epoch"]), 100 * r["train_acc"], 100 * r["test_acc"]) for r in history]
    csv = "epoch,train_acc,test_acc\n" + "".join(f"{e},{a:.4f},{b:.4f}\n" for e, a, b in rows)
    write_text_atomic(run_dir / "training_curves.csv", csv)
    write_json(run_dir / "training_curves.json", {
        "epoch": [r[0] for r in rows], "train_acc_history": [r[1] for r in rows], "test_acc_history": [r[2] for r in rows],
        "unit": "percent",
    })


def experiment_config(cfg: PlasticityConfig, base: Baseline) -> dict[str, Any]:
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


def write_post_artifacts(run_dir: Path, cfg: PlasticityConfig, before: dict[str, Any], results: dict[float, dict[str, Any]],
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
    write_torch(run_dir / f"{POST_STATE}.pt", seed_state_dict(models[first]))
    if several:
        for eta in finished:
            write_torch(run_dir / f"{POST_STATE}_eta{eta_tag(eta)}.pt", seed_state_dict(models[eta]))
