"""`snn sweep` and `snn sweep summarize` end to end: grid expansion, invalid points, resume, failures, parallel, chart."""

import json

import pytest
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.jobs.sweep import expand, point_name, value_label

runner = CliRunner()
BASE = ["--model", "vgg6", "--use-flex", "--dataset", "synthetic-cifar", "--width", "0.0625", "--hidden-dim", "16",
        "--T", "2", "--epochs", "1", "--max-batches", "2", "--batch-size", "16", "--val-fraction", "0"]
GRID = ["--grid", "spiking=true,false", "--grid", "use_stbp=true,false"]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_grid_expansion_and_names():
    points = expand({"spiking": [True, False], "conv_pool_ratio": ["1:1", [2, 1]]})
    assert [point_name(p) for p in points] == [
        "spiking=true_conv_pool_ratio=1-1", "spiking=true_conv_pool_ratio=2-1",
        "spiking=false_conv_pool_ratio=1-1", "spiking=false_conv_pool_ratio=2-1"]
    assert value_label(0.10) == "0.1" and value_label("a/b c") == "a-b-c"


def test_two_by_two_sweep_runs_skips_invalid_resumes_and_summarises(tmp_path):
    res = run("sweep", *BASE, *GRID, "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    status = {p["name"]: p["status"] for p in report["points"]}
    assert status == {"spiking=true_use_stbp=true": "finished", "spiking=true_use_stbp=false": "finished",
                      "spiking=false_use_stbp=true": "invalid", "spiking=false_use_stbp=false": "finished"}
    assert "STBP needs a spiking network" in report["invalid"][0]["reason"]
    assert (tmp_path / "sweep.json").is_file()
    for name, st in status.items():
        assert (st == "finished") == any((tmp_path / name).glob("*/.DONE"))
    # Re-run: finished points are skipped without training, with their results.
    again = json.loads(run("sweep", *BASE, *GRID, "--out", tmp_path, "--json").stdout)
    assert [p["status"] for p in again["points"]] == ["skipped", "skipped", "invalid", "skipped"]
    assert [p.get("test_acc") for p in again["points"]] == [p.get("test_acc") for p in report["points"]]

    res = run("sweep", "summarize", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["settings"] == ["spiking", "use_stbp"]
    assert len(summary["rows"]) == 3 and all(r["status"] == "finished" for r in summary["rows"])
    assert {(r["spiking"], r["use_stbp"]) for r in summary["rows"]} == {("true", "true"), ("true", "false"), ("false", "false")}
    assert all(0 <= r["conv_ratio"] <= 1 and 0 <= r["seed_binariness"] <= 1 for r in summary["rows"])
    csv_lines = (tmp_path / "summary.csv").read_text().splitlines()
    assert csv_lines[0].startswith("spiking,use_stbp,status") and len(csv_lines) == 4
    assert (tmp_path / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = run("sweep", "summarize", tmp_path, "--x", "use_stbp", "--hue", "spiking")
    assert printed.exit_code == 0 and "3 runs in" in printed.output


def test_grid_file_with_a_seed_base_and_seed_names(tmp_path):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({
        "base": {"network": "VGG6", "dataset": "synthetic-cifar", "learning_rate": 0.01, "use_flex": True,
                 "in_dimensions": [3, 32, 32], "batch_size": 16, "epochs": 1},
        "grid": {"mask_type": ["hard", "none"], "conv_pool_ratio": [[2, 1]]},
    }))
    res = run("sweep", grid, "--width", "0.0625", "--hidden-dim", "16", "--max-batches", "1", "--val-fraction", "0",
              "--out", tmp_path / "s", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert [p["name"] for p in report["points"]] == ["masking_mechanism=hard_conv_pool_ratio=2-1",
                                                     "masking_mechanism=none_conv_pool_ratio=2-1"]
    cfg = json.loads(next((tmp_path / "s" / report["points"][1]["name"]).glob("*/config.json")).read_text())
    assert cfg["masking_mechanism"] == "NONE" and cfg["lr"] == 0.01 and cfg["lr_schedule"] == "cosine"


def test_a_failing_point_is_reported_after_the_others(tmp_path):
    bad = tmp_path / "spiking=false"
    run_dir = bad / "synthetic-cifar_vgg6_ANN_NoSTBP_FLEX_sigmoid_hard_r1-1_w0.0625"
    run_dir.mkdir(parents=True)
    (run_dir / f"{run_dir.name}.pth").write_bytes(b"garbage")
    res = run("sweep", *BASE, "--grid", "spiking=false,true", "--out", tmp_path)
    assert res.exit_code == 1
    assert "point spiking=false failed" in res.output and "unreadable checkpoint" in res.output
    assert any((tmp_path / "spiking=true").glob("*/.DONE"))


def test_points_in_parallel_processes(tmp_path):
    res = run("sweep", *BASE, "--grid", "masking_mechanism=STE,SIGMOID_SOFT", "--jobs", "2", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    assert [p["status"] for p in json.loads(res.stdout)["points"]] == ["finished", "finished"]


@pytest.mark.parametrize("args,needle", [
    (["--grid", "spiking"], "--grid: expected KEY=V1,V2"),
    (["--grid", "colour=red,blue"], "--grid: unknown setting 'colour'"),
    ([], "--grid: no grid"),
    (["--grid", "spiking=true", "--jobs", "0"], "--jobs"),
    (["--grid", "spiking=true,false", "--masking-mechanism", "soft-ish"], "every point of the grid is invalid"),
])
def test_bad_sweeps_exit_2_with_one_line(tmp_path, args, needle):
    res = run("sweep", *BASE, *args, "--out", tmp_path / "s")
    assert res.exit_code == 2, res.output
    assert needle in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_summarize_refuses_missing_or_empty_folders(tmp_path):
    res = run("sweep", "summarize", tmp_path / "nope")
    assert res.exit_code == 2 and "snn: error: DIR: folder does not exist" in res.output
    res = run("sweep", "summarize", tmp_path)
    assert res.exit_code == 2 and "no runs" in res.output
