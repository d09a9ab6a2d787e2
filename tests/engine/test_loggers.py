"""--logger tensorboard: the epoch rows and batch losses come back out of the event file; a missing
tensorboard stops the run before anything is written."""

import importlib.util
import json
from pathlib import Path

import pytest

from snncli.config import TrainConfig
from snncli.engine import train
from snncli.errors import MissingExtraError

SETTINGS = dict(dataset="synthetic", model="mlp", hidden_dim=16, T=3, epochs=2, max_batches=3, batch_size=32)


def test_tensorboard_event_file_holds_the_metrics(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = train(TrainConfig(**SETTINGS, logger="tensorboard", out=tmp_path))
    run_dir = Path(result["run_dir"])
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train_loss", "test_acc", "val_acc", "rate_l1", "batch/train_loss"} <= tags
    for key in ("train_loss", "test_acc", "test_loss"):
        logged = [(e.step, e.value) for e in events.Scalars(key)]
        assert [s for s, _ in logged] == [r["epoch"] for r in rows]
        assert [v for _, v in logged] == pytest.approx([r[key] for r in rows], rel=1e-6)  # stored as float32
    assert [e.step for e in events.Scalars("batch/train_loss")] == list(range(6))


def test_missing_tensorboard_exits_before_writing(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"pip install 'snncli\[tensorboard\]'"):
        train(TrainConfig(**SETTINGS, logger="tensorboard", out=tmp_path / "runs"))
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_logger_is_not_part_of_the_run_identity(tmp_path):
    pytest.importorskip("tensorboard")
    first = train(TrainConfig(**SETTINGS, out=tmp_path))
    again = train(TrainConfig(**SETTINGS, logger="tensorboard", out=tmp_path))
    assert again["status"] == "skipped" and again["test_acc"] == first["test_acc"]
