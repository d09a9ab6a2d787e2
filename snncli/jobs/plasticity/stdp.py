"""``snn plasticity --baseline stdp``: the hidden layer trained by STDP alone, read out by class assignment."""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from ...analysis.metrics import confusion_matrix, per_class_metrics
from ...config.plasticity import PlasticityConfig
from ...data import Encoding, ImageSet, iterate_batches
from ...engine.device import resolve_device, seed_everything
from ...engine.inputs import load_inputs
from ...engine.writers import write_json, write_text_atomic, write_torch
from ...plasticity import assign_classes, predict_by_assignment
from ...plasticity.stdp_baseline import THETA_DECAY, THETA_PLUS, CompetitiveLayer, init_layer, spike_counts, stdp_step
from ..reports.plasticity import stdp_report_markdown
from .common import PlasticityCallbacks, experiment_dir
from .seed_files import seed_layout

ASSIGN_SAMPLES = 10_000  # training images whose responses name the neurons (labels used only here)


@torch.no_grad()
def _hidden_counts(data: ImageSet, layer: CompetitiveLayer, T: int, gen: torch.Generator,
                   max_batches: int | None, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    counts, labels = [], []
    for i, (x, y) in enumerate(iterate_batches(data, 1000, shuffle=False, device=device)):
        if max_batches is not None and i >= max_batches:
            break
        counts.append(spike_counts(layer, Encoding(T, "rate")(x, generator=gen).flatten(2)))
        labels.append(y)
    return torch.cat(counts), torch.cat(labels)


def run_stdp_baseline(cfg: PlasticityConfig, cb: PlasticityCallbacks | None = None) -> dict[str, Any]:
    """The hidden layer trained by STDP alone (:mod:`snncli.plasticity.stdp_baseline`), read out by class assignment.

    Inputs are rate coded (Bernoulli spikes with the pixel intensity as probability per step).
    Labels are used only after each epoch, to name each neuron by the class it fires most for; a
    test image gets the class whose neurons fire most.
    """
    cb = cb or PlasticityCallbacks()
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    start = time.perf_counter()
    run_dir = experiment_dir(cfg) / "stdp_baseline"
    run_dir.mkdir(parents=True, exist_ok=True)
    inputs = load_inputs(cfg.train_config(), device, hold_out=False)
    train_set, test_set = inputs.train.to(device), inputs.test.to(device)
    n_in = math.prod(train_set.shape)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    layer = init_layer(cfg.hidden_dim, n_in, gen, device)
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
            layer = stdp_step(layer, Encoding(cfg.T, "rate")(x, generator=gen).flatten(2), cfg.stdp_eta, cfg.tau)
            cb.on_post_batch(i)
        counts, labels = _hidden_counts(train_set, layer, cfg.T, gen, math.ceil(ASSIGN_SAMPLES / 1000), device)
        assignments = assign_classes(counts, labels, train_set.num_classes)
        test_counts, test_labels = _hidden_counts(test_set, layer, cfg.T, gen, None, device)
        pred = predict_by_assignment(test_counts, assignments, train_set.num_classes)
        cm = confusion_matrix(pred, test_labels, train_set.num_classes)
        metrics = per_class_metrics(cm, test_set.classes)
        row = {"epoch": epoch + 1, "test_acc": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"],
               "neurons_used": int((assignments >= 0).sum()), "time_s": round(time.perf_counter() - t0, 3)}
        history.append(row)
        cb.on_post_epoch({"eta": cfg.stdp_eta, **row})
    write_torch(run_dir / "stdp_baseline_state_dict.pt",
                {"fc1.weight": layer.weight.cpu(), "theta": layer.theta.cpu(), "assignments": assignments.cpu()})
    write_json(run_dir / "per_class_metrics.json", {"stdp_baseline": seed_layout(metrics)})
    from ... import plots
    from ...plots import plasticity as pplots

    plots.plot_confusion(cm, test_set.classes, run_dir / "cm_stdp_baseline.png",
                         title="STDP only, neuron-to-class readout, test set")
    pplots.plot_receptive_fields(layer.weight.cpu(), train_set.shape, assignments.cpu(), test_set.classes,
                                 run_dir / "stdp_receptive_fields.png", title="Weights learned by STDP, labelled by assigned class")
    result = {
        "status": "finished", "run_dir": str(run_dir), "baseline": "stdp", "dataset": cfg.dataset,
        "test_acc": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"], "history": history,
        "settings": {"hidden_dim": cfg.hidden_dim, "T": cfg.T, "epochs": cfg.stdp_epochs, "eta": cfg.stdp_eta, "tau": cfg.tau,
                     "weight_sum": layer.weight_sum, "theta_plus": THETA_PLUS, "theta_decay": THETA_DECAY, "encoding": "rate"},
        "time_s": round(time.perf_counter() - start, 3),
    }
    write_json(run_dir / "result.json", result)
    write_json(run_dir / "experiment_config.json", cfg.model_dump(mode="json"))
    write_text_atomic(run_dir / "report.md", stdp_report_markdown(cfg, n_in, layer.weight_sum, metrics, row["neurons_used"]))
    return result
