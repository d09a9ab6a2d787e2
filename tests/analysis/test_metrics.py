"""Metrics against values computed by hand with scikit-learn's definitions."""

import pytest
import torch

from snncli.analysis.metrics import confusion_matrix, per_class_metrics


def test_confusion_matrix_counts_true_rows_predicted_columns():
    target = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    pred = torch.tensor([0, 0, 1, 1, 2, 2, 2, 0, 2])
    cm = confusion_matrix(pred, target, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [1, 0, 3]]


def test_per_class_metrics_match_hand_computed_values():
    cm = torch.tensor([[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    m = per_class_metrics(cm, ["a", "b", "c"])
    # class a: tp 2, predicted 3, true 3 -> P 2/3, R 2/3, F1 2/3
    # class b: tp 1, predicted 2, true 2 -> P 1/2, R 1/2, F1 1/2
    # class c: tp 3, predicted 4, true 4 -> P 3/4, R 3/4, F1 3/4
    assert m["per_class"]["a"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert m["per_class"]["b"]["f1"] == pytest.approx(0.5)
    assert m["per_class"]["c"]["precision"] == pytest.approx(0.75)
    assert m["macro"]["f1"] == pytest.approx((2 / 3 + 1 / 2 + 3 / 4) / 3)
    assert m["weighted"]["recall"] == pytest.approx((2 / 3 * 3 + 1 / 2 * 2 + 3 / 4 * 4) / 9)
    assert m["accuracy"] == pytest.approx(6 / 9)


def test_asymmetric_precision_recall_and_zero_division():
    # class 0: tp 3, predicted 4, true 3 -> P 0.75, R 1, F1 6/7
    # class 1: tp 0, predicted 0, true 1 -> P 0 (zero_division=0), R 0, F1 0
    # class 2: never occurs and never predicted -> all 0, support 0
    cm = torch.tensor([[3, 0, 0], [1, 0, 0], [0, 0, 0]])
    m = per_class_metrics(cm)
    assert m["per_class"]["0"]["precision"] == pytest.approx(0.75)
    assert m["per_class"]["0"]["recall"] == pytest.approx(1.0)
    assert m["per_class"]["0"]["f1"] == pytest.approx(6 / 7)
    assert m["per_class"]["1"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["macro"]["f1"] == pytest.approx((6 / 7) / 3)
    assert m["accuracy"] == pytest.approx(0.75)
