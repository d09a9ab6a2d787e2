"""`snn train` with the conv family: flags, seed configs, validation, Flex metrics, CIFAR-format files, reload."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.config import TrainConfig, from_seed_format, load_config_file

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--width", "0.0625", "--hidden-dim", "16", "--batch-size", "16", "--max-batches", "2", "--epochs", "1"]
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_seed_example_config_translates_to_our_settings():
    values = from_seed_format(load_config_file(ROOT / "configs" / "plasticflex_example.json"))
    cfg = TrainConfig(**values)
    assert (cfg.model, cfg.dataset, cfg.lr, cfg.optimizer, cfg.lr_schedule) == ("vgg11", "cifar10", 0.01, "sgd", "cosine")
    assert cfg.use_flex and cfg.conv_pool_ratio == (2, 1) and cfg.masking_mechanism == "SIGMOID_HARD"
    assert cfg.spiking is False and cfg.use_stbp is False  # the seed ignores use_stbp in ANN mode
    assert (cfg.beta, cfg.threshold, cfg.dropout, cfg.in_shape, cfg.num_classes) == (0.95, 1.0, 0.2, (3, 32, 32), 10)
    assert cfg.momentum == 0.9 and cfg.weight_decay == 1e-5
    # the seed's data conventions, which its files do not state
    assert (cfg.channel_norm, cfg.augment, cfg.init, cfg.input_noise, cfg.input_noise_eval, cfg.subset_sampling) == (
        True, "none", "kaiming", 0.1, True, "seed")
    assert cfg.flex_layers == "all" and cfg.neuron == "lif" and cfg.flex_threshold == "learned"  # working defaults
    assert from_seed_format({"dataset": "CIFAR-10-Down-50", "network": "SimpleConvNet"}) == {
        "dataset": "cifar10-down-50", "model": "simple_conv", "optimizer": "sgd", "momentum": 0.9,
        "weight_decay": 1e-5, "lr_schedule": "cosine", "channel_norm": True, "augment": "none", "init": "kaiming",
        "subset_sampling": "seed", "input_noise": 0.1, "input_noise_eval": True}
    mnist = from_seed_format({"dataset": "mnist", "network": "VGG6", "augment": "crop-flip"})
    assert "input_noise" not in mnist and mnist["augment"] == "crop-flip"  # keys the file gives win


def test_seed_example_config_runs_a_batch(tmp_path):
    # The file as is; the dataset (CIFAR-10 is not available offline) and the size are overridden.
    res = run("train", "--config", ROOT / "configs" / "plasticflex_example.json", "--dataset", "synthetic-cifar",
              *TINY, "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["name"] == "synthetic-cifar_vgg11_ANN_NoSTBP_FLEX_sigmoid_hard_r2-1_kaiming_norm_noise0.1_w0.0625"
    rows = [json.loads(line) for line in (Path(result["run_dir"]) / "metrics.jsonl").read_text().splitlines()]
    # Flex at every convolution, as the seed builds it: 8 3x3 and 5 2x2 layers of VGG-11
    assert {f"flex{i}_conv_ratio" for i in range(1, 14)} <= set(rows[0]) and "flex14_conv_ratio" not in rows[0]
    assert rows[0]["conv_ratio_target"] == pytest.approx(2 / 3, abs=1e-4)
    assert 0 <= rows[0]["flex1_binariness"] <= 1 and 0 <= rows[0]["flex13_seed_binariness"] <= 1
    assert 0 <= rows[0]["flex_mean_conv_ratio"] <= 1
    from snncli.engine import load_run

    loaded = load_run(Path(result["run_dir"]))
    assert loaded.model.input_mean.shape == (3, 1, 1)  # normalised inside the model (measured on synthetic-cifar)
    assert rows[0]["lr"] == 0.01  # cosine: epoch 0 of 1 runs at the full rate
    # No masks: every weight of its convolutions and linear layers is a connection (was reported as 0).
    from snncli.engine import load_run

    model = load_run(Path(result["run_dir"])).model
    weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))
    assert result["connections"] == weights > 0 and result["sparsity"] == 0.0


def test_seed_mnist_config_repeats_grey_images_to_three_channels(tmp_path):
    res = run("train", "--config", ROOT / "configs" / "plasticflex_mnist_vgg6.json", "--dataset", "synthetic",
              *TINY, "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    from snncli.engine import load_run

    loaded = load_run(Path(result["run_dir"]))
    assert loaded.model.features[0][0].conv.in_channels == 3 and loaded.test.shape == (3, 28, 28)
    x = loaded.test.x[:4]
    assert torch.equal(x[:, 0], x[:, 2])


def test_vgg6_flex_snn_stbp_learns_synthetic_cifar(tmp_path):
    res = run("train", "--model", "vgg6", "--use-flex", "--spiking", "true", "--use-stbp", "true",
              "--dataset", "synthetic-cifar", "--T", "2", "--width", "0.125", "--hidden-dim", "32",
              "--batch-size", "32", "--epochs", "2", "--max-batches", "16", "--lr", "3e-3", "--augment", "none",
              "--val-fraction", "0", "--bn-recalibrate", "8", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["name"] == "synthetic-cifar_vgg6_SNN_STBP_FLEX_T2_sigmoid_hard_r1-1_w0.125"
    assert len(result["firing_rates"]) == 4 + 2 + 1 and all(0 < r < 1 for r in result["firing_rates"][:-1])
    # 10 classes. Eval mode reads BN running statistics, which lag the weights after 32 fast steps (with a
    # Flex layer at every conv this run scored 10% without the recalibration, 97% with it).
    assert result["test_acc"] > 0.6
    rows = [json.loads(line) for line in (Path(result["run_dir"]) / "metrics.jsonl").read_text().splitlines()]
    assert [r["bn_recalibrated_batches"] for r in rows] == [8, 8]


@pytest.mark.parametrize("args,needle", [
    (["--spiking", "false", "--use-stbp", "true"], "--use-stbp: STBP needs a spiking network"),
    (["--spiking", "maybe"], "--spiking: Input should be a valid boolean"),
    (["--conv-pool-ratio", "2"], "--conv-pool-ratio: give two numbers as a:b"),
    (["--masking-mechanism", "relu"], "--masking-mechanism"),
    (["--model", "mlp", "--use-flex"], "--use-flex: Flex layers need a conv model"),
    (["--model", "mlp", "--spiking", "false"], "--spiking: mlp is a spiking MLP"),
    (["--engine", "snntorch"], "--engine: the snnTorch reference engine runs the MLPs only"),
    (["--in-shape", "3,28,28"], "--in-shape: synthetic-cifar images are (3, 32, 32)"),
    (["--num-classes", "100"], "--num-classes: synthetic-cifar has 10 classes"),
    (["--model", "vgg11", "--dataset", "synthetic"], "--model: vgg11 on synthetic: input (1, 28, 28) is too small"),
    (["--neuron", "heaviside"], "--neuron: the heaviside activation is the seed's spiking one"),
    (["--flex-layers", "some"], "--flex-layers"),
    (["--joint-mechanism", "sum"], "--joint-mechanism: unknown joint mechanism"),
])
def test_bad_conv_settings_exit_2_with_one_line(tmp_path, args, needle):
    base = ["--model", "vgg6"] if "--model" not in args else []
    res = run("train", "--dataset", "synthetic-cifar", *base, *args, *TINY, "--out", tmp_path)
    assert res.exit_code == 2, res.output
    assert needle in res.output and len(res.output.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def _write_cifar10(folder: Path, per_batch: int, n_test: int) -> None:
    """The real "python version" layout: five data batches, a test batch, batches.meta (pickled dicts)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def dump(name, n, offset):
        labels = [(i + offset) % 10 for i in range(n)]
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        data[:, :1024] = np.array(labels, dtype=np.uint8)[:, None] * 25  # the red plane tells the class
        (folder / name).write_bytes(pickle.dumps({b"data": data, b"labels": labels}, protocol=2))

    for i in range(1, 6):
        dump(f"data_batch_{i}", per_batch, i)
    dump("test_batch", n_test, 0)
    names = [c.encode() for c in ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}, protocol=2))


def test_flex_snn_trains_on_cifar10_subset_files(tmp_path):
    _write_cifar10(tmp_path / "data" / "cifar-10-batches-py", per_batch=20, n_test=100)
    res = run("train", "--model", "vgg11", "--use-flex", "--spiking", "true", "--use-stbp", "true",
              "--dataset", "cifar10-random-small-100", "--data-root", tmp_path / "data", "--T", "2",
              "--val-fraction", "0", *TINY, "--out", tmp_path / "runs", "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert (result["train_samples"], result["test_samples"]) == (100, 100)
    assert result["data_source"].endswith("cifar-10-batches-py")


def test_heaviside_seed_network_and_options_train(tmp_path):
    """The seed code's bugs and conventions as options, together: stateless step, redrawn threshold,
    frozen first classifier layer, kaiming init, normalisation and input noise."""
    res = run("train", "--model", "vgg6", "--dataset", "synthetic-cifar", "--use-flex", "--spiking", "true",
              "--neuron", "heaviside", "--flex-threshold", "redrawn", "--freeze-first-fc", "--init", "kaiming",
              "--channel-norm", "--input-noise", "0.1", *TINY, "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["name"].endswith("_thrredrawn_heaviside_kaiming_norm_noise0.1_fc1frozen_w0.0625")
    from snncli.engine import load_run

    loaded = load_run(Path(result["run_dir"]))
    first = loaded.model.hidden[0]
    ckpt = torch.load(next(Path(result["run_dir"]).glob("*.pth")), weights_only=False)
    assert not first.weight.requires_grad and "features.0.0.logits.threshold" not in ckpt["model"]
    assert loaded.model.neuron == "heaviside"
