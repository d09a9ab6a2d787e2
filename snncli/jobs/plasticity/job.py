"""``snn plasticity``: a supervised SNN, then unsupervised post-training, with the seed's artifacts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TypedDict

import torch

from ...config.plasticity import PlasticityConfig
from ...engine.device import resolve_device, seed_everything
from ...engine.writers import write_json, write_text_atomic, write_torch
from ...models import SpikingMLP
from ..reports.plasticity import report_markdown
from .baseline import Baseline, supervised_baseline
from .common import PlasticityCallbacks, eta_tag, experiment_dir
from .figures import figures
from .post_training import evaluate_classifier, fingerprint, run_eta
from .seed_files import BASELINE_STATE, experiment_config, seed_state_dict, write_post_artifacts, write_training_curves
from .stdp import run_stdp_baseline


class PlasticityResult(TypedDict, total=False):
    """What ``snn plasticity`` returns (and writes to ``result.json``); accuracies as fractions.

    The STDP-only baseline (``--baseline stdp``) returns ``status, run_dir, baseline="stdp", dataset,
    test_acc, macro_f1, history, settings, time_s``.
    """

    status: str
    run_dir: str
    baseline_run: str
    rule: str
    dataset: str
    baseline_epochs: int
    baseline: dict[str, Any]  # test_acc, macro_f1, train_acc
    post_training: dict[str, dict[str, Any]]  # eta -> test_acc, macro_f1 trajectories, time_s
    time_s: float


def run_plasticity(cfg: PlasticityConfig, callbacks: PlasticityCallbacks | None = None) -> PlasticityResult:
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
    write_torch(run_dir / BASELINE_STATE, seed_state_dict(model))
    write_training_curves(run_dir, base.history)
    write_json(run_dir / "experiment_config.json", experiment_config(cfg, base))

    several = len(cfg.eta) > 1
    fprint = fingerprint(model, cfg)
    results: dict[float, dict[str, Any]] = {}
    models: dict[float, SpikingMLP] = {}
    for eta in cfg.eta:
        tag = eta_tag(eta)
        record = run_dir / "post_training" / f"eta{tag}.json"
        state_file = run_dir / "post_training" / f"eta{tag}.pt"
        if record.exists() and state_file.exists() and not cfg.force:
            stored = json.loads(record.read_text())
            if stored.get("fingerprint") == fprint:
                cb.on_log(f"eta {tag}: finished before; skipping (use --force to redo)")
                results[eta] = stored
                models[eta] = _load_into(model, torch.load(state_file, map_location=device))
                continue
        result, post_model = run_eta(base, cfg, eta, before, device, cb)
        result["fingerprint"] = fprint
        write_torch(state_file, post_model.state_dict())
        write_json(record, result)  # last: its presence means this eta is done
        results[eta], models[eta] = result, post_model
        write_post_artifacts(run_dir, cfg, before, results, models, several)

    write_post_artifacts(run_dir, cfg, before, results, models, several)
    figs = figures(run_dir, cfg, base, model, before, results, models, several, device)
    summary = _summary(cfg, base, before, results, run_dir, time.perf_counter() - start)
    write_text_atomic(run_dir / "report.md", report_markdown(cfg, base, before, results, figs, several, run_dir))
    write_json(run_dir / "result.json", summary)
    return summary


def _load_into(template: SpikingMLP, state: dict[str, torch.Tensor]) -> SpikingMLP:
    import copy

    model = copy.deepcopy(template)
    model.load_state_dict(state)
    return model.eval()


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
