"""`snn visualize` and `snn analyze` end to end on a small trained run."""

import json
import re

from trained import trained_run
from typer.testing import CliRunner

from snncli.cli.app import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_visualize_all(run_dir, tmp_path):
    res = invoke("visualize", "all", run_dir, "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    assert set(r["files"]) == {"curves", "confusion", "weights", "raster", "membrane", "features", "firing"}
    assert "masks" in r["skipped"]  # a dense model has none
    for paths in r["files"].values():
        for p in paths:
            assert (tmp_path / p.split("/")[-1]).stat().st_size > 0
    cm = json.loads((tmp_path / "confusion.json").read_text())
    assert sum(map(sum, cm["matrix"])) == 500 and 0.5 < cm["accuracy"] <= 1
    assert set(r["firing_rates"]) == {"layer 1", "output"}


def test_visualize_masks_of_a_sparse_model(tmp_path_factory, tmp_path):
    sparse = trained_run(tmp_path_factory.getbasetemp(), model="mixer", epochs=1, groups=2)
    res = invoke("visualize", "masks,weights", sparse, "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "masks.png").stat().st_size > 0 and json.loads(res.stdout)["skipped"] == {}


def test_visualize_bad_figure(run_dir):
    res = invoke("visualize", "rasterz", run_dir)
    assert res.exit_code == 2 and "unknown figure" in res.output


def test_analyze_writes_a_report_linking_every_output(run_dir, tmp_path):
    res = invoke("analyze", run_dir, "--sample-size", "16", "--eps", "0", "--eps", "8/255", "--steps", "2",
                 "--batches", "1", "--batch-size", "16", "--resolution", "3", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    assert list(r["parts"]) == ["visualize", "gradflow", "attack", "hessian", "landscape"]
    assert {v["status"] for v in r["parts"].values()} == {"ok"}, r["parts"]
    report = (tmp_path / "report.md").read_text()
    linked = set(re.findall(r"\]\(([^)]+)\)", report))
    for path in tmp_path.iterdir():
        if path.suffix in (".png", ".json", ".npz", ".csv") and path.name not in ("visualize.json",):
            assert path.name in linked, path.name
    assert all((tmp_path / p).exists() for p in linked)
    assert "| eps (x/255) |" in report and "Hessian" in report
    skipped = invoke("analyze", run_dir, "--skip", "hessian", "--skip", "landscape", "--skip", "attack", "--skip", "visualize",
                     "--batch-size", "16", "--out", tmp_path / "s", "--json")
    assert skipped.exit_code == 0, skipped.output
    assert json.loads(skipped.stdout)["parts"]["hessian"] == {"status": "skipped"}
    assert invoke("analyze", run_dir, "--skip", "everything").exit_code == 2


def test_analyze_seed_protocol_runs_the_seeds_attack_hessian_and_landscape(run_dir, tmp_path, monkeypatch):
    """Which settings each part gets (the parts themselves are tested on their own commands)."""
    import snncli.jobs.analyze as suite

    seen = {}

    def recorder(name):
        def job(cfg, cb):
            seen[name] = cfg
            raise RuntimeError("recorded")
        return job

    for name in ("visualize", "gradflow", "attack", "hessian", "landscape"):
        monkeypatch.setattr(suite, name, recorder(name))
    res = invoke("analyze", run_dir, "--protocol", "seed", "--resolution", "21", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["protocol"] == "seed"
    atk, hes, land = seen["attack"], seen["hessian"], seen["landscape"]
    assert atk.protocol == "seed" and atk.attacks == ["pgd"] and atk.sample_size == 128 and atk.seed == 42
    assert (hes.protocol, hes.top_k, hes.iters, hes.batch_size, hes.split, hes.seed) == ("seed", 5, 100, 16, "train", 42)
    assert (land.protocol, land.directions, land.resolution, land.gif) == ("seed", "seed", 21, True)


def test_visualize_all_on_a_flex_ann(tmp_path_factory, tmp_path):
    """Conv ANNs have no firing rates (skipped, not a crash) and their recorded layers end with the logits."""
    run = trained_run(tmp_path_factory.getbasetemp(), model="vgg6", use_flex=True, spiking=False, width=0.125,
                      hidden_dim=16, epochs=1, max_batches=4, batch_size=32)
    res = invoke("visualize", "all", run, "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert "firing" in result["skipped"] and (tmp_path / "features.png").exists() and (tmp_path / "masks.png").exists()
