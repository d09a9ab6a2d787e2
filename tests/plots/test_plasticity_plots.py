"""The plasticity figures write PNGs and refuse malformed input with a ValueError."""

import pytest
import torch

from snncli.plasticity import get_rule, pair_window
from snncli.plots.plasticity import plot_accuracy_trajectory, plot_learning_window, plot_post_training

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    data = path.read_bytes()
    return data[:8] == PNG and len(data) > 2000


def test_accuracy_trajectory_with_and_without_macro_f1(tmp_path):
    acc = [94.24, 93.50, 92.43, 90.94]
    assert is_png(plot_accuracy_trajectory(acc, tmp_path / "gentle.png", "gentle (η=1e-5)"))
    assert is_png(plot_accuracy_trajectory(acc, tmp_path / "f1.png", "t", macro_f1=[0.94, 0.93, 0.92, 0.91], color="green"))
    with pytest.raises(ValueError, match="macro_f1 has 2 points"):
        plot_accuracy_trajectory(acc, tmp_path / "bad.png", "t", macro_f1=[0.9, 0.8])
    with pytest.raises(ValueError, match="no accuracies"):
        plot_accuracy_trajectory([], tmp_path / "bad.png", "t")
    assert not (tmp_path / "bad.png").exists()


def test_learning_window_of_the_stdp_rule(tmp_path):
    lags = list(range(-20, 21))
    window = pair_window(get_rule("stdp"), lags)
    assert is_png(plot_learning_window(lags, window, tmp_path / "stdp_learning_rule.png"))
    with pytest.raises(ValueError, match="matching lags"):
        plot_learning_window([1, 2, 3], torch.zeros(2), tmp_path / "bad.png")


def test_post_training_refuses_no_trajectories(tmp_path):
    rows = [{"epoch": 0, "test_acc": 0.9, "macro_f1": 0.9}, {"epoch": 1, "test_acc": 0.8, "macro_f1": 0.8}]
    assert is_png(plot_post_training({"1e-5": rows}, tmp_path / "both.png"))
    with pytest.raises(ValueError, match="no post-training"):
        plot_post_training({}, tmp_path / "bad.png")
