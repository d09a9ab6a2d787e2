"""load_run: the shared way analysis commands rebuild a trained model."""

import pytest
import torch

from snncli.config import TrainConfig
from snncli.engine import CheckpointError, find_checkpoint, find_runs, load_run, train
from snncli.engine.checkpoint import load_checkpoint, save_checkpoint


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig(dataset="synthetic", model="mlp", hidden_dim=32, T=4, epochs=1, max_batches=3, out=out)
    res = train(cfg)
    return out, res


def test_load_run_restores_weights_and_config(short_run):
    out, res = short_run
    loaded = load_run(res["run_dir"])
    ckpt = load_checkpoint(find_checkpoint(loaded.dir))
    for k, v in loaded.model.state_dict().items():
        assert torch.equal(v, ckpt["model"][k]), k
    assert loaded.cfg.model == "mlp" and loaded.cfg.hidden_dim == 32
    assert not loaded.model.training
    assert len(loaded.test) > 0 and loaded.val_acc == pytest.approx(res["val_acc"])
    assert find_runs(out) == [loaded.dir]


def test_load_run_refuses_weights_of_another_shape(short_run, tmp_path):
    _, res = short_run
    ckpt = load_checkpoint(find_checkpoint(res["run_dir"]))
    ckpt["config"]["hidden_dim"] = 64
    bad = tmp_path / "bad.pth"
    save_checkpoint(bad, {k: v for k, v in ckpt.items() if k != "format"})
    with pytest.raises(CheckpointError, match="do not fit"):
        load_run(bad)


def test_find_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no such"):
        find_checkpoint(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        find_checkpoint(tmp_path)


def test_load_run_rebuilds_the_model_without_the_dataset(short_run, monkeypatch):
    _, res = short_run
    import snncli.engine.runs as runs

    def no_data(*a, **k):
        raise AssertionError("the dataset was read")

    monkeypatch.setattr(runs, "load_inputs", no_data)
    loaded = load_run(res["run_dir"])
    assert loaded.input["shape"] == [1, 28, 28] and loaded.input["num_classes"] == 10
    assert loaded.provenance["packages"]["torch"] == torch.__version__
    x = torch.rand(4, 4, 1, 28, 28)  # [T, B, C, H, W]
    assert loaded.model(x).spikes.shape == (4, 4, 10)
    with pytest.raises(AssertionError, match="dataset was read"):
        loaded.test  # read on demand


def test_load_run_of_a_checkpoint_without_input_record_reads_the_dataset(short_run, tmp_path):
    _, res = short_run
    ckpt = load_checkpoint(find_checkpoint(res["run_dir"]))
    old = tmp_path / "old.pth"
    save_checkpoint(old, {k: v for k, v in ckpt.items() if k not in ("format", "input", "provenance")})
    loaded = load_run(old)
    assert loaded.input["shape"] == [1, 28, 28] and len(loaded.test) > 0 and loaded.provenance == {}


def _finished_folder(cfg: TrainConfig, stored: dict):
    from snncli.engine.runs import run_paths
    from snncli.engine.writers import write_json

    paths = run_paths(cfg)
    paths.dir.mkdir(parents=True)
    write_json(paths.dir / "config.json", stored)
    write_json(paths.result, {"epochs": cfg.epochs, "test_acc": 0.5})
    paths.done.touch()
    return paths


def test_flex_runs_stored_before_flex_layers_are_downsample_only_runs(tmp_path):
    """Such a folder carries today's default name; it must not pass for a Flex-everywhere result."""
    from snncli.engine.trainer import is_finished

    cfg = TrainConfig(dataset="synthetic", model="vgg6", use_flex=True, epochs=1, out=tmp_path)
    stored = cfg.model_dump(mode="json")
    del stored["flex_layers"]
    paths = _finished_folder(cfg, stored)
    assert cfg.flex_layers == "all" and not is_finished(cfg, paths)
    assert is_finished(cfg.model_copy(update={"flex_layers": "downsample"}), paths)


def test_settings_stored_under_a_seed_name_are_read_as_that_setting(tmp_path):
    from snncli.engine.trainer import is_finished

    cfg = TrainConfig(dataset="synthetic", model="vgg6", use_flex=True, epochs=1, out=tmp_path)
    stored = cfg.model_dump(mode="json")
    stored["num_spatial_attention_block"] = stored.pop("attention_blocks") + 1
    stored["normalize"] = stored.pop("channel_norm")  # its name before snn plasticity's --normalize
    paths = _finished_folder(cfg, stored)
    assert not is_finished(cfg, paths)
    assert is_finished(cfg.model_copy(update={"attention_blocks": cfg.attention_blocks + 1}), paths)
