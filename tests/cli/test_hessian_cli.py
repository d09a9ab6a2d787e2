"""`snn hessian`, `snn landscape` and `snn gradflow` end to end on a small trained run."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from snncli.cli.app import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_hessian_json_and_files(run_dir, tmp_path):
    res = invoke("hessian", run_dir, "--batches", "1", "--batch-size", "16", "--top-k", "2", "--iters", "5",
                 "--trace-iters", "3", "--density-steps", "4", "--per-layer", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    assert len(r["eigenvalues"]) == 2 and r["trace_samples"] <= 3 and set(r["per_layer"]) == {"layers.0", "layers.1"}
    assert r["samples"] == 16 and "eigenvectors" not in r
    assert json.loads((tmp_path / "hessian.json").read_text())["eigenvalues"] == r["eigenvalues"]
    assert (tmp_path / "hessian_density.png").stat().st_size > 0 and (tmp_path / "hessian_layers.png").exists()
    assert "Examples" in invoke("hessian", "--help").stdout


def test_landscape_centre_is_the_model_and_grid_is_saved(run_dir, tmp_path):
    res = invoke("landscape", run_dir, "--resolution", "3", "--batches", "1", "--batch-size", "16", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    assert r["centre_loss"] == r["model_loss"] and r["centre_accuracy"] == r["model_accuracy"]
    grid = np.load(tmp_path / "landscape.npz")
    assert grid["loss"].shape == (3, 3) and grid["loss"][1, 1] == r["centre_loss"]
    for name in ("landscape_contour.png", "landscape_surface.png", "landscape_accuracy.png"):
        assert (tmp_path / name).stat().st_size > 0
    one = invoke("landscape", run_dir, "--directions", "hessian", "--dims", "1", "--resolution", "3", "--batches", "1",
                 "--batch-size", "8", "--hessian-iters", "3", "--out", tmp_path / "h", "--json")
    assert one.exit_code == 0, one.output
    assert (tmp_path / "h" / "landscape_1d.png").exists()
    bad = invoke("landscape", run_dir, "--resolution", "4")
    assert bad.exit_code == 2 and "--resolution" in bad.output and "odd" in bad.output


def test_gradflow_json_flags_and_files(run_dir, tmp_path):
    res = invoke("gradflow", run_dir, "--batches", "2", "--batch-size", "16", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    assert [row["name"] for row in r["layers"]][0] == "layers.0.weight"
    assert all(row["flag"] in ("ok", "vanishing", "exploding") for row in r["layers"])
    assert (tmp_path / "gradflow.png").exists() and (tmp_path / "gradflow.csv").exists()
    every = json.loads(invoke("gradflow", run_dir, "--batches", "1", "--vanish", "1e6", "--out", tmp_path, "--json").stdout)
    assert len(every["vanishing"]) == len(every["layers"])
    assert invoke("gradflow", run_dir, "--ratio", "0.5").exit_code == 2


def test_seed_protocols_fill_what_the_user_left_unset():
    from snncli.config import HessianConfig, LandscapeConfig

    h = HessianConfig(run=Path("."), protocol="seed")
    assert (h.split, h.batch_size, h.batches, h.top_k, h.iters, h.trace_iters, h.density_steps, h.seed) == (
        "train", 16, 1, 5, 100, 100, 100, 42)
    assert h.save_eigenvectors and HessianConfig(run=Path("."), protocol="seed", iters=7, seed=1).iters == 7
    ls = LandscapeConfig(run=Path("."), protocol="seed", resolution=5)
    assert (ls.directions, ls.resolution, ls.split, ls.first_batches, ls.smooth, ls.gif) == ("seed", 5, "train", True, 1.0, True)
    assert LandscapeConfig(run=Path(".")).gif is False


def test_hessian_seed_protocol_reports_top5_on_training_images_and_saves_eigenvectors(run_dir, tmp_path):
    res = invoke("hessian", run_dir, "--protocol", "seed", "--iters", "4", "--trace-iters", "3", "--density-steps", "4",
                 "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    assert len(r["eigenvalues"]) == 5 and r["samples"] == 16 and r["settings"]["split"] == "train"
    vecs = np.load(tmp_path / "hessian_eigenvectors.npz", allow_pickle=False)
    assert sorted({k.split("/")[0] for k in vecs.files}) == ["v0", "v1", "v2", "v3", "v4"]
    assert sum(v.size for k, v in vecs.items() if k.startswith("v0/")) == r["parameters"]


def test_landscape_seed_protocol_plane_and_figures(run_dir, tmp_path):
    res = invoke("landscape", run_dir, "--protocol", "seed", "--resolution", "3", "--no-gif", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    assert r["directions"] == "seed" and r["split"] == "train" and r["samples"] == 64  # the run's batch size
    assert r["centre_loss"] == pytest.approx(r["model_loss"])
    assert (tmp_path / "landscape_surface.png").stat().st_size > 0 and not (tmp_path / "landscape_surface.gif").exists()
