"""Classification metrics with scikit-learn's definitions (no scikit-learn needed).

For class ``c`` with confusion matrix ``M`` (rows: true class, columns: predicted):

    precision_c = M[c, c] / sum_i M[i, c]      (0 when nothing was predicted as c)
    recall_c    = M[c, c] / sum_j M[c, j]      (0 when c never occurs)
    F1_c        = 2 P R / (P + R)              (0 when P + R = 0)

``macro`` averages each over classes with equal weight; ``weighted`` weights by support;
``accuracy`` is trace(M) / sum(M). These are ``sklearn.metrics.precision_recall_fscore_support``
with ``zero_division=0`` and ``classification_report``'s averages.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts ``M[true, predicted]`` as a ``[C, C]`` int64 tensor on the CPU.

    Args:
        pred: predicted class per sample, shape ``[N]``.
        target: true class per sample, shape ``[N]``.
        num_classes: C.
    """
    pred, target = pred.reshape(-1).long().cpu(), target.reshape(-1).long().cpu()
    if pred.shape != target.shape:
        raise ValueError(f"pred and target differ in length: {pred.numel()} vs {target.numel()}")
    flat = target * num_classes + pred
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    return torch.where(den > 0, num / den.clamp(min=1e-12), torch.zeros_like(num))


def per_class_metrics(cm: torch.Tensor, classes: Sequence[str] | None = None) -> dict[str, Any]:
    """Precision, recall, F1 and support per class, plus macro and weighted averages and accuracy.

    Args:
        cm: confusion matrix ``[C, C]`` (rows true, columns predicted).
        classes: class names (default ``"0"``, ``"1"``, ...).

    Returns:
        ``{"per_class": {name: {precision, recall, f1, support}}, "macro": {...}, "weighted": {...},
        "accuracy": float}`` with plain floats, ready for JSON.
    """
    cm = cm.double()
    n = cm.shape[0]
    names = list(classes) if classes is not None else [str(i) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"{len(names)} class names for a {n}x{n} confusion matrix")
    tp = cm.diagonal()
    support = cm.sum(1)
    precision = _safe_div(tp, cm.sum(0))
    recall = _safe_div(tp, support)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    total = support.sum()
    per_class = {
        name: {"precision": p, "recall": r, "f1": f, "support": int(s)}
        for name, p, r, f, s in zip(names, precision.tolist(), recall.tolist(), f1.tolist(), support.tolist())
    }
    weights = support / total if total > 0 else torch.zeros_like(support)
    return {
        "per_class": per_class,
        "macro": {"precision": precision.mean().item(), "recall": recall.mean().item(), "f1": f1.mean().item()},
        "weighted": {
            "precision": (precision * weights).sum().item(),
            "recall": (recall * weights).sum().item(),
            "f1": (f1 * weights).sum().item(),
        },
        "accuracy": (tp.sum() / total).item() if total > 0 else 0.0,
    }
