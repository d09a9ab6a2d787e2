"""Post-training: unsupervised passes of a local rule over a copy of the baseline, evaluated after each."""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Callable
from typing import Any

import torch

from ...analysis.metrics import confusion_matrix, per_class_metrics
from ...config import TrainConfig
from ...config.identity import identity
from ...config.plasticity import PlasticityConfig
from ...data import ImageSet, iterate_batches
from ...engine.epoch import clip_parameters
from ...engine.evaluation import eval_classifier
from ...models import SpikingMLP
from ...plasticity import get_rule
from .baseline import Baseline
from .common import PlasticityCallbacks, PlasticityInputError

RULES_VERSION = 3  # part of every post-training fingerprint: bump when a rule's or the loop's arithmetic changes


@torch.no_grad()
def evaluate_classifier(model: torch.nn.Module, data: ImageSet, tcfg: TrainConfig, device: torch.device) -> dict[str, Any]:
    """Test accuracy, confusion matrix and per-class metrics (scikit-learn's definitions)."""
    model.eval()
    clf = eval_classifier(model, tcfg, seed_offset=2)  # the encodings the trainer's test evaluation uses
    preds, targets = [], []
    for x, y in iterate_batches(data, 1000, shuffle=False, device=device):
        preds.append(clf(x).argmax(1).cpu())
        targets.append(y.cpu())
    cm = confusion_matrix(torch.cat(preds), torch.cat(targets), data.num_classes)
    metrics = per_class_metrics(cm, data.classes)
    return {"acc": metrics["accuracy"], "macro_f1": metrics["macro"]["f1"], "cm": cm.tolist(), "metrics": metrics}


def fingerprint(model: SpikingMLP, cfg: PlasticityConfig) -> str:
    """What a post-training result depends on: the baseline's weights and every setting of ``cfg`` that
    changes results (its identity; each eta has its own record)."""
    h = hashlib.sha1()
    for v in model.state_dict().values():
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    h.update(json.dumps([RULES_VERSION, identity(cfg, exclude=("eta",))], sort_keys=True).encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------- post-training


@torch.no_grad()
def post_train_epoch(
    model: SpikingMLP, data: ImageSet, tcfg: TrainConfig, rule: Callable[..., torch.Tensor], eta: float,
    params: dict[str, float], batch_size: int, clip: float | None, generator: torch.Generator,
    max_batches: int | None = None, on_batch: Callable[[int], None] = lambda i: None, clip_biases: bool = False,
) -> int:
    """One unsupervised pass, as the seed's: every batch changes every layer by ``rule``; labels unused.

    Per batch of ``batch_size`` (full batches only, as the seed's ``drop_last`` loader): one forward
    pass of the encoded input recording every layer's spikes; each layer's change from its own
    pre-synaptic activity (layer 1: the encoded input, e.g. normalised pixels; then the previous
    layer's spikes) and post-synaptic spikes, all computed before any is applied, so layer 2 learns
    from the layer-1 activity of the old weights; then the weights (and, with ``clip_biases``, the
    biases) are clamped to ``[-clip, clip]``. Biases are never changed by the rule.

    Returns:
        The number of batches applied.
    """
    model.eval()
    device = next(model.parameters()).device
    n = 0
    batches = iterate_batches(data, batch_size, shuffle=True, generator=generator, device=device, drop_last=True)
    for i, (x, _) in enumerate(batches):
        if max_batches is not None and i >= max_batches:
            break
        x_seq = tcfg.encoding(x, generator=generator)
        out = model(x_seq, record=True)
        pres = [x_seq.flatten(2), *out.hidden[:-1]]
        deltas = [rule(pre, post, layer.weight, eta, **params) for layer, pre, post in zip(model.layers, pres, out.hidden)]
        for layer, dw in zip(model.layers, deltas):
            layer.weight.add_(dw)
        if clip:
            clip_parameters(model, clip, biases=clip_biases)
        on_batch(i)
        n += 1
    return n


def rule_params(rule: Callable[..., torch.Tensor], cfg: PlasticityConfig) -> dict[str, float]:
    """The settings of ``cfg`` that ``rule`` takes (``tau`` for ``stdp``, ``lambda_ltd`` for ``hebb-anti-hebb``)."""
    accepted = inspect.signature(rule).parameters
    return {k: v for k, v in {"tau": cfg.tau, "lambda_ltd": cfg.lambda_ltd}.items() if k in accepted}


def run_eta(
    baseline: Baseline, cfg: PlasticityConfig, eta: float, before: dict[str, Any], device: torch.device,
    cb: PlasticityCallbacks,
) -> tuple[dict[str, Any], SpikingMLP]:
    """Post-train a copy of the baseline with one ``eta``; evaluate after every epoch."""
    import copy

    model = copy.deepcopy(baseline.model).to(device)
    rule = get_rule(cfg.rule)
    params = rule_params(rule, cfg)
    train_set = baseline.splits.train.to(device)
    test_set = baseline.splits.test.to(device)
    batches = len(train_set) // cfg.batch_size
    if batches == 0:
        raise PlasticityInputError(
            f"--batch-size: {cfg.batch_size} is more than the {len(train_set)} training images; post-training uses full batches"
        )
    if cfg.max_batches:
        batches = min(batches, cfg.max_batches)
    rows = [{"epoch": 0, "test_acc": before["acc"], "macro_f1": before["macro_f1"]}]
    last = before
    start = time.perf_counter()
    for epoch in range(cfg.post_epochs):
        cb.on_post_start(eta, epoch, batches)
        gen = torch.Generator(device=device).manual_seed(cfg.seed * 1_000_003 + epoch)
        t0 = time.perf_counter()
        post_train_epoch(model, train_set, baseline.tcfg, rule, eta, params, cfg.batch_size, cfg.post_clip, gen,
                         cfg.max_batches, cb.on_post_batch, clip_biases=cfg.clip_biases)
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
