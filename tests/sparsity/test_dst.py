"""Prune and grow rules, and dynamic sparse training end to end."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.config import TrainConfig
from snncli.data import load_dataset
from snncli.engine.trainer import build_model
from snncli.sparsity import GROW_RULES, PRUNE_RULES, correlation, cosine_similarity, rewire


def _layer(seed=0, shape=(40, 60), density=0.3):
    gen = torch.Generator().manual_seed(seed)
    mask = (torch.rand(shape, generator=gen) < density).float()
    weight = torch.randn(shape, generator=gen) * mask
    corr = torch.randn(shape, generator=gen)
    return weight, mask, corr


@pytest.mark.parametrize("prune", sorted(PRUNE_RULES))
@pytest.mark.parametrize("grow", sorted(GROW_RULES))
def test_rewire_keeps_the_count_and_swaps_disjoint_sets(prune, grow):
    weight, mask, corr = _layer()
    active = int(mask.sum())
    out = rewire(weight, mask, 0.1, prune, grow, corr, torch.Generator().manual_seed(1))
    assert int(out.mask.sum()) == active
    assert out.pruned.numel() == out.grown.numel() == round(0.1 * active)
    flat_old, flat_new = mask.flatten().bool(), out.mask.flatten().bool()
    assert flat_old[out.pruned].all() and not flat_new[out.pruned].any()
    assert not flat_old[out.grown].any() and flat_new[out.grown].all()
    assert not set(out.pruned.tolist()) & set(out.grown.tolist())


def test_set_prunes_the_smallest_magnitudes_and_hebb_grows_the_strongest_correlations():
    weight, mask, corr = _layer()
    out = rewire(weight, mask, 0.2, "set", "hebb", corr)
    active = mask.flatten().bool()
    mags = weight.abs().flatten()
    assert mags[out.pruned].max() <= mags[active].sort().values[len(out.pruned)]
    inactive_corr = corr.abs().flatten()[~active]
    assert torch.allclose(corr.abs().flatten()[out.grown].sort().values, inactive_corr.topk(len(out.grown)).values.sort().values)


def test_hebb_prune_drops_weakest_correlations():
    weight, mask, corr = _layer(3)
    out = rewire(weight, mask, 0.1, "hebb", "random", corr, torch.Generator().manual_seed(0))
    active_corr = corr.abs().flatten()[mask.flatten().bool()]
    assert torch.allclose(corr.abs().flatten()[out.pruned].sort().values, active_corr.topk(len(out.pruned), largest=False).values.sort().values)


def test_random_rules_are_reproducible_with_a_generator():
    weight, mask, corr = _layer()
    a = rewire(weight, mask, 0.1, "random", "random", None, torch.Generator().manual_seed(5))
    b = rewire(weight, mask, 0.1, "random", "random", None, torch.Generator().manual_seed(5))
    assert torch.equal(a.mask, b.mask)
    with pytest.raises(ValueError, match="correlation"):
        rewire(weight, mask, 0.1, "hebb", "hebb", None)


def test_correlation_matches_numpy():
    gen = torch.Generator().manual_seed(0)
    pre, post = torch.rand(200, 7, generator=gen), torch.rand(200, 5, generator=gen)
    post[:, 0] = pre[:, 3] * 2 + 0.01 * post[:, 0]
    ours = correlation(pre, post)
    ref = np.corrcoef(np.concatenate([post.numpy(), pre.numpy()], axis=1).T)[:5, 5:]
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-4)
    assert ours[0, 3] > 0.99


def test_cosine_similarity_of_spike_trains():
    gen = torch.Generator().manual_seed(0)
    pre = (torch.rand(6, 9, 7, generator=gen) < 0.3).float()
    post = (torch.rand(6, 9, 5, generator=gen) < 0.3).float()
    post[..., 0] = pre[..., 2]
    ours = cosine_similarity(pre, post)
    ref = torch.nn.functional.cosine_similarity(post.reshape(-1, 5).t()[:, None, :], pre.reshape(-1, 7).t()[None, :, :], dim=2)
    torch.testing.assert_close(ours, ref)
    assert ours[0, 2] == pytest.approx(1.0, abs=1e-6)


def test_seed_count_floors_prunes_magnitude_ties_and_may_regrow_the_just_pruned():
    mask = torch.ones(4, 5)
    mask[0, :2] = 0  # 18 active, 2 inactive
    weight = torch.arange(20, dtype=torch.float32).view(4, 5) + 1
    weight[1, :] = 3.0  # five active weights tied at the 2nd-smallest magnitude
    corr = torch.zeros(4, 5)
    corr[1, 0] = 5.0  # a just-pruned connection is the most correlated
    out = rewire(weight, mask, 0.1, "set", "hebb", corr, count="seed")  # floor(0.1 * 18) = 1
    assert out.pruned.numel() == 6  # every active weight at the cut |w| = 3: row 0's and all five of row 1
    assert out.grown.numel() == 6 and int(out.mask.sum()) == 18
    assert out.mask[1, 0] == 1  # regrown in the same update
    exact = rewire(weight, mask, 0.1, "set", "hebb", corr, count="exact")  # round(1.8) = 2, ties broken
    assert exact.pruned.numel() == 2 and not set(exact.pruned.tolist()) & set(exact.grown.tolist())
    assert rewire(weight, mask, 0.05, "set", "hebb", corr, count="seed").pruned.numel() == 0  # floor(0.9) = 0


ARGS = ["--dataset", "synthetic", "--model", "index", "--hidden-dim", "128", "--T", "6", "--batch-size", "50",
        "--enc-scale", "3", "--update-every", "9", "--cp", "hebb", "--cg", "hebb", "--hebb-window", "200", "--json"]


def _masks(run_dir: Path):
    ckpt = torch.load(next(run_dir.glob("*.pth")), weights_only=True)
    return {k: v for k, v in ckpt["model"].items() if k.endswith("mask")}, ckpt


CURRENT = ["--dst-corr", "pearson", "--dst-count", "exact", "--dst-rewired", "reset"]


@pytest.mark.parametrize("semantics", [[], CURRENT], ids=["seed", "exact-reset"])
def test_dst_run_rewires_keeps_counts_and_logs(tmp_path, semantics):
    runner = CliRunner()
    res = runner.invoke(app, ["dst", *ARGS, *semantics, "--epochs", "2", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    run_dir = Path(result["run_dir"])
    assert run_dir.name.endswith("_cphebb_cghebb")
    log = [json.loads(line) for line in (run_dir / "dst.jsonl").read_text().splitlines()]
    assert log and {r["layer"] for r in log} == {1, 2, 3}  # the three masked hidden layers
    assert all(r["pruned"] == r["grown"] > 0 for r in log)
    masks, ckpt = _masks(run_dir)
    # The initial masks: the same configuration, freshly built.
    cfg = TrainConfig(**ckpt["config"])
    fresh = build_model(cfg, load_dataset("synthetic").train)
    for i, layer in enumerate(fresh.layers[:3]):
        new = masks[f"layers.{i}.mask"]
        assert int(new.sum()) == int(layer.mask.sum())  # count constant
        assert not torch.equal(new, layer.mask)  # but rewired
        if semantics:
            weight = ckpt["model"][f"layers.{i}.weight"]
            assert torch.all(weight[(new == 0) & (layer.mask == 1)] == 0)  # pruned weights zeroed


def test_seed_semantics_keep_rewired_weights_and_optimizer_state():
    from snncli.engine.dst import DynamicSparsity

    cfg = TrainConfig(dataset="synthetic", model="index", hidden_dim=64, T=4, update_every=1, cp="set", cg="random")
    model = build_model(cfg, load_dataset("synthetic").train)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(8, *load_dataset("synthetic").train.shape)
    torch.nn.functional.cross_entropy(model(x.expand(4, *x.shape)).mem.sum(0), torch.zeros(8, dtype=torch.long)).backward()
    opt.step()
    weights = [l.weight.detach().clone() for l in model.layers]
    moments = [opt.state[l.weight]["exp_avg"].clone() for l in model.layers]
    dst = DynamicSparsity(model, cfg, torch.device("cpu"))
    assert dst.after_step(opt) == []  # step 1: the seed tests its count (0) before incrementing it
    records = dst.after_step(opt)  # step 2 = N + 1
    assert [r["step"] for r in records] == [2, 2, 2]
    for layer, w, m in zip(model.layers, weights, moments):
        assert torch.equal(layer.weight, w) and torch.equal(opt.state[layer.weight]["exp_avg"], m)


def test_dst_resume_continues_the_same_schedule(tmp_path):
    runner = CliRunner()
    straight = json.loads(runner.invoke(app, ["dst", *ARGS, "--epochs", "3", "--out", str(tmp_path / "a")]).stdout)
    runner.invoke(app, ["dst", *ARGS, "--epochs", "1", "--out", str(tmp_path / "b")])
    run_b = tmp_path / "b" / Path(straight["run_dir"]).name
    (run_b / ".DONE").unlink()
    resumed = json.loads(runner.invoke(app, ["dst", *ARGS, "--epochs", "3", "--out", str(tmp_path / "b")]).stdout)
    assert resumed["resumed_from_epoch"] == 1
    assert resumed["test_loss"] == pytest.approx(straight["test_loss"], abs=1e-6)
    masks_a, _ = _masks(Path(straight["run_dir"]))
    masks_b, _ = _masks(run_b)
    assert all(torch.equal(masks_a[k], masks_b[k]) for k in masks_a)
    assert (Path(straight["run_dir"]) / "dst.jsonl").read_text() == (run_b / "dst.jsonl").read_text()


def test_dense_with_dynamic_sparsity_is_refused(tmp_path):
    res = CliRunner().invoke(app, ["train", "--dataset", "synthetic", "--model", "dense", "--sparsity", "dynamic",
                                   "--out", str(tmp_path)])
    assert res.exit_code == 2 and "needs a sparse model" in res.output
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("model", ["index", "random", "mixer"])
@pytest.mark.parametrize("cp", sorted(PRUNE_RULES))
@pytest.mark.parametrize("cg", sorted(GROW_RULES))
def test_every_rule_pair_trains_every_sparse_model(tmp_path, model, cp, cg):
    res = CliRunner().invoke(app, [
        "dst", "--dataset", "synthetic", "--model", model, "--hidden-dim", "32", "--T", "4", "--batch-size", "100",
        "--epochs", "1", "--max-batches", "6", "--update-every", "2", "--cp", cp, "--cg", cg,
        "--hebb-window", "100", "--out", str(tmp_path), "--json",
    ])
    assert res.exit_code == 0, res.output
    run_dir = Path(json.loads(res.stdout)["run_dir"])
    log = [json.loads(line) for line in (run_dir / "dst.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, 3, 3, 5, 5, 5]  # after steps N+1, 2N+1 (the seed's count)
    for layer in (1, 2, 3):
        counts = {r["connections"] for r in log if r["layer"] == layer}
        assert len(counts) == 1  # constant through every update
