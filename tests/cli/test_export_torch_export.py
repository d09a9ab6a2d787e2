"""`snn export --format torch-export`: an ANN run as a torch.export program, images -> logits for any batch
size, reproducing the model; spiking networks are refused with one line pointing to NIR (no nir needed)."""

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.engine import load_run

runner = CliRunner()
TINY = ["--width", "0.0625", "--hidden-dim", "16", "--batch-size", "16", "--max-batches", "2", "--epochs", "1"]


@pytest.fixture(scope="module")
def ann_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ann")
    res = runner.invoke(app, ["train", "--model", "vgg6", "--use-flex", "--dataset", "synthetic-cifar", *TINY,
                              "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    return Path(json.loads(res.stdout)["run_dir"])


def test_traced_ann_reproduces_the_models_logits(ann_run, tmp_path):
    res = runner.invoke(app, ["export", str(ann_run), "--format", "torch-export", "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    path = Path(result["file"])
    assert path.parent == tmp_path and path.suffix == ".pt2"
    program = torch.export.load(str(path)).module()
    run = load_run(ann_run)
    run.model.eval()
    for n in (1, 5):  # batch sizes other than the example's (2)
        images = torch.rand(n, *run.input["shape"], generator=torch.Generator().manual_seed(n))
        with torch.no_grad():
            expected = run.model(images.unsqueeze(0)).mem[0]
            got = program(images)
        assert got.shape == (n, 10)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)  # same ops, same order: rounding only
    assert result["layers"] and all(r["connections"] > 0 for r in result["layers"])


def test_spiking_networks_are_refused_pointing_to_nir(run_dir, tmp_path):
    res = runner.invoke(app, ["export", str(run_dir), "--format", "torch-export", "--out", str(tmp_path / "z")])
    assert res.exit_code == 2, res.output
    assert "--format nir" in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "z").exists()


def test_python_api_exports_like_the_command(ann_run, tmp_path):
    import snncli

    result = snncli.export(run=ann_run, format="torch-export", out=tmp_path)
    assert Path(result["file"]).is_file() and result["format"] == "torch-export"
    with pytest.raises(Exception, match="format"):  # validated by pydantic before any work
        snncli.export(run=ann_run, format="onnx", out=tmp_path / "never")
    assert not (tmp_path / "never").exists()
