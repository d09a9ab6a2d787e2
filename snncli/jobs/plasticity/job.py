"""``snn plasticity``: a supervised SNN, then unsupervised post-training, with the seed's artifacts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TypedDict


from ...config.plasticity import PlasticityConfig
from ...engine.checkpoint import CheckpointError, load_weights
from ...engine.device import resolve_device, seed_everything
from ...engine.guards import detail, model_non_finite, named
from ...engine.locks import RunLock
from ...engine.runs import read_json_object
from ...engine.writers import write_json, write_text_atomic, write_torch
from ...models import SpikingMLP
from ..reports.plasticity import report_markdown
from .baseline import Baseline, supervised_baseline
from .common import PlasticityCallbacks, eta_tag, experiment_dir, regimes
from .figures import figures
from .post_training import evaluate_classifier, fingerprint, run_eta
from .seed_files import write_baseline_files, write_post_artifacts
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
        CheckpointError: the baseline folder holds a run of other settings, or a saved post-training state
            is unreadable.
        RunLockedError: another process writes in the rule's (or the baseline's) folder.
    """
    cb = callbacks or PlasticityCallbacks()
    folder = experiment_dir(cfg) / ("stdp_baseline" if cfg.baseline == "stdp" else cfg.rule)
    with RunLock(folder) as lock:
        result = run_stdp_baseline(cfg, cb) if cfg.baseline == "stdp" else _post_training(cfg, cb)
        lock.keep_folder()
    return result


def _post_training(cfg: PlasticityConfig, cb: PlasticityCallbacks) -> PlasticityResult:
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
    write_baseline_files(run_dir, cfg, base)

    fprint = fingerprint(model, cfg)
    results: dict[float, dict[str, Any]] = {}
    models: dict[float, SpikingMLP] = {}
    for eta in cfg.eta:
        tag = eta_tag(eta)
        record = run_dir / "post_training" / f"eta{tag}.json"
        state_file = run_dir / "post_training" / f"eta{tag}.pt"
        if record.exists() and state_file.exists() and not cfg.force:
            stored = read_json_object(record, "use --force to redo this eta")
            if stored.get("fingerprint") == fprint:
                models[eta] = _load_into(model, load_weights(state_file, map_location=device), state_file)
                results[eta] = stored
                cb.on_log(f"eta {tag}: finished before; skipping (use --force to redo)")
                continue
        result, post_model = run_eta(base, cfg, eta, before, device, cb)
        result["fingerprint"] = fprint
        write_torch(state_file, post_model.state_dict())
        write_json(record, result)  # last: its presence means this eta is done
        results[eta], models[eta] = result, post_model
        write_post_artifacts(run_dir, cfg, before, results, models)

    write_post_artifacts(run_dir, cfg, before, results, models)
    figs = figures(run_dir, cfg, base, model, before, results, models, device)
    summary = _summary(cfg, base, before, results, run_dir, time.perf_counter() - start)
    write_text_atomic(run_dir / "report.md", report_markdown(cfg, base, before, results, figs, run_dir))
    write_json(run_dir / "result.json", summary)
    return summary


def _load_into(template: SpikingMLP, state: Any, path: Path) -> SpikingMLP:
    import copy

    model = copy.deepcopy(template)
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: does not fit the baseline network ({detail(exc)}); use --force to redo") from None
    bad = model_non_finite(model)
    if bad:
        raise CheckpointError(f"{path}: holds non-finite weights ({named(bad)}); use --force to redo")
    return model.eval()


def _summary(cfg: PlasticityConfig, base: Baseline, before: dict[str, Any], results: dict[float, dict[str, Any]],
             run_dir: Path, elapsed: float) -> dict[str, Any]:
    return {
        "status": "finished", "run_dir": str(run_dir), "baseline_run": base.source, "rule": cfg.rule,
        "dataset": base.tcfg.dataset, "baseline_epochs": len(base.history), "regimes": {eta_tag(e): r for e, r in regimes(cfg.eta).items()},
        "baseline": {"test_acc": before["acc"], "macro_f1": before["macro_f1"],
                     "train_acc": base.history[-1]["train_acc"] if base.history else None},
        "post_training": {
            eta_tag(e): {"test_acc": [r["test_acc"] for r in results[e]["trajectory"]],
                         "macro_f1": [r["macro_f1"] for r in results[e]["trajectory"]],
                         "time_s": results[e].get("time_s")}
            for e in cfg.eta if e in results
        },
        "time_s": round(elapsed, 3),
        "settings": cfg.model_dump(mode="json"), "baseline_settings": base.tcfg.model_dump(mode="json"),
    }
