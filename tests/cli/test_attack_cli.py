"""`snn attack` end to end on a small trained synthetic run."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_help_explains_with_examples():
    res = invoke("attack", "--help")
    assert res.exit_code == 0
    for text in ("--eps", "--top-n", "--sample-size", "--with-spsa", "--eot", "Examples", "gradient masking"):
        assert text in res.stdout


def test_pgd_and_spsa_table_json_and_files(run_dir, tmp_path):
    out = tmp_path / "out"
    res = invoke("attack", "pgd", run_dir, "--with-spsa", "--eps", "0", "--eps", "16/255", "--sample-size", "32",
                 "--steps", "3", "--spsa-samples", "8", "--out", out, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    run = result["runs"][0]
    assert set(run["attacks"]) == {"pgd", "spsa"}
    pgd = run["attacks"]["pgd"]
    assert [r["eps"] for r in pgd] == [0.0, 16 / 255] and pgd[0]["n"] == 32
    assert pgd[1]["accuracy"] <= pgd[0]["accuracy"]
    assert pgd[0]["accuracy"] == run["attacks"]["spsa"][0]["accuracy"]  # eps 0: the same clean accuracy
    for name in ("attack_pgd.json", "attack_pgd.csv", "attack_spsa.json", "attack.png"):
        assert (out / name).stat().st_size > 0, name
    stored = json.loads((out / "attack_pgd.json").read_text())
    assert stored["results"] == pgd and stored["gradient_free"] is False
    assert (out / "attack_pgd.csv").read_text().splitlines()[0].startswith("eps,")
    table = invoke("attack", "fgsm", run_dir, "--eps", "0", "--eps", "4/255", "--sample-size", "16", "--out", out)
    assert table.exit_code == 0 and "4/255" in table.stdout and "fgsm" in table.stdout


def test_folder_of_runs_with_top_n_picks_the_best_validation_accuracy(run_dir, tmp_path):
    runs = tmp_path / "runs"
    for name, val in (("a", 0.2), ("b", 0.9), ("c", 0.5)):
        dst = runs / name
        shutil.copytree(run_dir, dst)
        ckpt = next(dst.glob("*.pth"))
        state = torch.load(ckpt, weights_only=False)
        for row in state["history"]:
            row["val_acc"] = val
        torch.save(state, ckpt)
    res = invoke("attack", "noise", runs, "--top-n", "2", "--eps", "0", "--eps", "0.1", "--sample-size", "8",
                 "--out", tmp_path / "out", "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert [Path(r["run"]).name for r in result["runs"]] == ["b", "c"]
    assert (tmp_path / "out" / "attack_noise_runs.png").exists()


@pytest.mark.parametrize("args, message", [
    (["nope"], "unknown attack"),
    (["pgd", "--eps", "2"], "--eps"),
    (["pgd", "--eps", "x/255"], "--eps"),
    (["pgd", "--sample-size", "0"], "--sample-size"),
])
def test_bad_input_is_one_line_and_exit_2(run_dir, args, message):
    res = invoke("attack", args[0], run_dir, *args[1:])
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_missing_run_is_exit_2(tmp_path):
    res = invoke("attack", "pgd", tmp_path / "absent")
    assert res.exit_code == 2 and "no such run" in res.output
    (tmp_path / "empty").mkdir()
    res = invoke("attack", "pgd", tmp_path / "empty")
    assert res.exit_code == 2 and "no run folders" in res.output


def test_without_torchattacks_its_attacks_exit_2_with_the_install_line_and_noise_still_runs(run_dir, tmp_path,
                                                                                            monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torchattacks" else real(name, *a))
    res = invoke("attack", "fgsm,noise", run_dir, "--eps", "0.1", "--sample-size", "8", "--out", tmp_path / "a")
    assert res.exit_code == 2 and "snn attack fgsm needs the torchattacks package: pip install 'snncli[attack]'" in res.output
    assert len(res.output.strip().splitlines()) == 1 and not (tmp_path / "a").exists()
    res = invoke("attack", "noise", run_dir, "--eps", "0.1", "--sample-size", "8", "--out", tmp_path / "b", "--json")
    assert res.exit_code == 0, res.output


def test_seed_protocol_prints_its_grid_and_an_auc(run_dir, tmp_path):
    out = tmp_path / "seed"
    res = invoke("attack", "pgd", run_dir, "--protocol", "seed", "--sample-size", "4", "--out", out)
    assert res.exit_code == 0, res.output
    assert "23/255" in res.stdout and "0.04193/255" not in res.stdout
    assert "AUC" in res.stdout and "AUC (seed's dx)" in res.stdout
    stored = json.loads((out / "attack_pgd.json").read_text())
    assert len(stored["results"]) == 23 and stored["protocol"] == "seed" and stored["sample_size"] == 4
    assert stored["seed"] == 42 and stored["results"][-1]["eps"] == 23 / 255
    summary = stored["summary"]
    assert summary["auc_seed"] == pytest.approx(summary["auc"] * 22 / 23, rel=1e-9)  # dx max/23 vs the grid's max/22
    assert (out / "attack_pgd_examples.png").stat().st_size > 0  # one example per budget by default


def test_seed_protocol_refuses_what_the_seed_never_ran(run_dir, tmp_path):
    res = invoke("attack", "square", run_dir, "--protocol", "seed")
    assert res.exit_code == 2 and "--protocol" in res.output and "it ran fgsm" in res.output
    res = invoke("attack", "pgd", run_dir, "--protocol", "seed", "--eps", "0.1")
    assert res.exit_code == 2 and "--eps" in res.output
    res = invoke("attack", "onepixel", run_dir, "--eps", "0", "--eps", "3", "--sample-size", "2", "--steps", "1",
                 "--out", tmp_path, "--json")  # pixels: no [0, 1] bound
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["eps_per_attack"]["onepixel"] == [0.0, 3.0]
