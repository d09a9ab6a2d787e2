"""A run folder holds one setting: no result-affecting change ever gets an old result back or resumes into it."""

import json
import typing

import pytest

from snncli.config import TrainConfig
from snncli.config.identity import differences
from snncli.config.setting import identity_fields, meta_of
from snncli.engine import CheckpointError, run_paths, train

MLP = dict(dataset="synthetic", model="mlp", hidden_dim=16, T=3, epochs=1, batch_size=32, max_batches=1)
G2G = dict(dataset="synthetic", model="mixer", hidden_dim=16, groups=2, T=3, epochs=1, batch_size=32, max_batches=1)
DENSE = dict(dataset="synthetic", model="dense", hidden_dim=16, T=3, epochs=1, batch_size=32, max_batches=1)
CONV = dict(dataset="synthetic-cifar", model="vgg6", spiking=True, use_flex=True, width=0.25, hidden_dim=16, T=2,
            epochs=1, batch_size=16, max_batches=1)


def _candidates(name: str, value):
    """Other values to try for a setting, by the type of its current value and field."""
    info = TrainConfig.model_fields[name]
    choices = [a for arg in [info.annotation, *typing.get_args(info.annotation)] for a in typing.get_args(arg)
               if typing.get_origin(arg) is typing.Literal]
    if choices:
        yield from choices
    if name in ("masking_mechanism", "logits_mechanism", "joint_mechanism"):
        from snncli.models import list_joints, list_logits, list_masks

        yield from {"masking_mechanism": list_masks, "logits_mechanism": list_logits, "joint_mechanism": list_joints}[name]()
    if name in ("model", "surrogate", "cp", "cg", "enc"):
        from snncli.config.fields import registry

        kind = {"model": "model", "surrogate": "surrogate", "cp": "prune rule", "cg": "grow rule", "enc": "encoding"}[name]
        yield from registry(kind).names()
    if isinstance(value, bool) or value is None:
        yield from (True, False)
    if isinstance(value, int) and not isinstance(value, bool):
        yield from (value + 1, max(value - 1, 0))
    if isinstance(value, float):
        yield from (value / 2 if value else 0.5, min(value * 1.5, 0.95), 0.25)
    if name == "dataset":
        yield from ("synthetic", "synthetic-cifar", "mnist")
    if name in ("conv_pool_ratio",):
        yield "2:1"
    if name in ("in_shape",):
        yield "3,32,32"
    if value is None:
        yield from (0.5, 2, 1)


def _changed(base: dict, name: str) -> TrainConfig | None:
    """A valid config that differs from ``base`` in ``name`` only (as stored), or None."""
    cfg = TrainConfig(**base)
    current = cfg.model_dump(mode="json")
    for candidate in _candidates(name, getattr(cfg, name)):
        try:
            other = TrainConfig(**{**base, name: candidate})
        except Exception:
            continue
        if other.model_dump(mode="json")[name] != current[name]:
            return other
    return None


def _finished_folder(cfg: TrainConfig) -> None:
    """A finished run folder for ``cfg``, as the trainer leaves one (without training)."""
    paths = run_paths(cfg)
    paths.dir.mkdir(parents=True)
    (paths.dir / "config.json").write_text(json.dumps(cfg.model_dump(mode="json")))
    paths.result.write_text(json.dumps({"status": "finished", "test_acc": 0.5, "epochs": cfg.epochs}))
    paths.done.touch()


def test_identity_is_every_setting_but_where_and_how_a_run_executes():
    operational = {"out", "force", "device", "threads", "nproc", "micro_batches", "data_root", "backbone", "num_classes",
                   "logger"}
    assert set(TrainConfig.model_fields) - set(identity_fields(TrainConfig)) == operational
    assert {"lr", "batch_size", "enc_scale", "enc_bias", "loss", "weight_decay", "rate_reg", "enforce_sparsity",
            "val_fraction", "augment", "lr_schedule", "alpha_reg", "max_batches", "epochs"} <= set(identity_fields(TrainConfig))


def test_a_finished_run_is_never_returned_for_any_other_result_affecting_setting(tmp_path):
    """Every identity setting, changed alone, is either another run folder (the seeds' run names show it)
    or refused in this one before anything is touched."""
    refused, elsewhere = set(), set()
    for i, base in enumerate((MLP, G2G, DENSE, CONV)):
        base = {**base, "out": tmp_path / str(i)}
        cfg = TrainConfig(**base)
        _finished_folder(cfg)
        for name in identity_fields(TrainConfig):
            if meta_of(TrainConfig.model_fields[name]).extends:
                continue
            other = _changed(base, name)
            if other is None:
                continue
            if other.run_name() != cfg.run_name():
                assert run_paths(other).dir != run_paths(cfg).dir
                elsewhere.add(name)
                continue
            with pytest.raises(CheckpointError, match=rf"different run \(.*{name}="):
                train(other)
            refused.add(name)
    extends = {n for n in identity_fields(TrainConfig) if meta_of(TrainConfig.model_fields[n]).extends}
    assert set(identity_fields(TrainConfig)) - refused - elsewhere - extends == set()
    assert {"lr", "batch_size", "enc_scale", "enc_bias", "loss", "weight_decay", "rate_reg", "val_fraction",
            "augment", "lr_schedule", "max_batches", "seed", "hidden_dim", "beta"} <= refused


def test_fewer_epochs_than_done_differ_more_extend_unless_the_schedule_spans_them():
    cfg = TrainConfig(**MLP, lr_schedule="step")
    stored = {**cfg.model_dump(mode="json"), "epochs": 3}
    assert differences(stored, cfg.model_copy(update={"epochs": 5})) == []
    assert differences(stored, cfg.model_copy(update={"epochs": 2})) == ["epochs"]
    assert differences(stored, cfg.model_copy(update={"epochs": 2}), done_epochs=1) == []
    cosine = cfg.model_copy(update={"lr_schedule": "cosine", "epochs": 5})
    assert differences({**stored, "lr_schedule": "cosine"}, cosine) == ["epochs"]


def test_a_key_an_old_run_lacks_is_its_default():
    cfg = TrainConfig(**MLP)
    stored = cfg.model_dump(mode="json")
    del stored["rate_reg"]
    assert differences(stored, cfg) == []
    assert differences(stored, cfg.model_copy(update={"rate_reg": 0.5})) == ["rate_reg"]


def test_raising_epochs_extends_a_finished_run_from_its_checkpoint(tmp_path):
    base = {**MLP, "out": tmp_path}
    first = train(TrainConfig(**base))
    more = train(TrainConfig(**{**base, "epochs": 2}))
    assert first["status"] == "finished" and more["status"] == "finished"
    assert more["resumed_from_epoch"] == 1 and more["epochs"] == 2
    rows = [json.loads(line) for line in (run_paths(TrainConfig(**base)).dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert train(TrainConfig(**{**base, "epochs": 2}))["status"] == "skipped"
    with pytest.raises(CheckpointError, match=r"epochs=2; this run has epochs=1"):
        train(TrainConfig(**base))
