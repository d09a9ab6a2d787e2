"""Data-parallel training (``--nproc``) on CPU with gloo: the same weights as one process, resumable.

The reference is one process with ``--micro-batches 2``: it computes each half of every batch on the same
shapes as the two ranks do and sums the halves' gradients before the step, so at the same thread count the
weights must be *equal*, bit for bit, on any CPU (the only cross-rank arithmetic, ``(g0 + g1) / 2``, is exact
whichever side adds). A plain one-process run differs from both by float rounding (its matmuls sum over the
whole batch), which Adam and the spike threshold amplify; no tolerance for that is CPU-independent, so none is
tested.
"""

from __future__ import annotations

import multiprocessing
import os
import signal

import pytest
import torch

from snncli.config import TrainConfig
from snncli.engine.callbacks import Callbacks
from snncli.engine.checkpoint import load_checkpoint
from snncli.engine.distributed import DistributedError, World, shard_bounds
from snncli.engine.runs import run_paths
from snncli.engine.trainer import train

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                                reason="torch built without gloo")

# A sparse G2G model with Hebbian dynamic sparse training and rate coding: the spawned ranks must agree on
# the random draws (order, spikes, DST's generator), the gathered activity and the rewiring.
SETTINGS = dict(
    dataset="synthetic", model="mixer", sparsity_mode="dynamic", cp="hebb", cg="hebb", update_every=2,
    hebb_window=64, enc="rate", T=3, hidden_dim=32, epochs=2, batch_size=16, max_batches=3, threads=1,
    val_fraction=0.05,
)


def _weights(cfg: TrainConfig) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_paths(cfg).checkpoint)["model"]


def _assert_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key}: max |diff| {(a[key] - b[key]).abs().max().item()}"


@pytest.mark.parametrize("n, size", [(32, 2), (5, 2), (7, 3), (1, 2)])
def test_shards_cover_the_batch_in_order(n, size):
    bounds = [shard_bounds(n, r, size) for r in range(size)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert max(hi - lo for lo, hi in bounds) - min(hi - lo for lo, hi in bounds) <= 1


@pytest.mark.parametrize("n, size, micro", [(32, 2, 1), (5, 2, 2), (7, 3, 2), (1, 2, 1)])
def test_part_weights_make_the_ranks_mean_the_batch_mean(n, size, micro):
    # DDP averages the ranks' gradients: sum over ranks of (weights) / size must be 1, each sample counted once.
    parts = [World(rank=r, size=size).parts(n, micro) for r in range(size)]
    assert sum(w for p in parts for _, _, w in p) / size == pytest.approx(1.0)
    counted = [i for p in parts for lo, hi, w in p if w for i in range(lo, hi)]
    assert counted == list(range(n))
    assert all(p for p in parts)  # every rank has a part, so every rank joins the all-reduce


def test_two_gloo_ranks_give_the_weights_of_one_process(tmp_path):
    parallel = TrainConfig(**SETTINGS, nproc=2, out=tmp_path / "ddp")
    serial = TrainConfig(**SETTINGS, micro_batches=2, out=tmp_path / "serial")
    r_par, r_ser = train(parallel), train(serial)
    _assert_equal(_weights(parallel), _weights(serial))
    masks = [k for k in _weights(parallel) if k.endswith("mask")]
    assert masks, "the model should carry DST masks"
    hist_par = load_checkpoint(run_paths(parallel).checkpoint)["dst"]["log"]
    assert hist_par and hist_par == load_checkpoint(run_paths(serial).checkpoint)["dst"]["log"]
    assert r_par["test_acc"] == r_ser["test_acc"] and r_par["status"] == "finished"
    assert (run_paths(parallel).dir / ".DONE").exists()
    assert r_par["train_samples"] == r_ser["train_samples"]


def test_killed_two_rank_run_resumes_to_the_same_weights(tmp_path):
    settings = {**SETTINGS, "epochs": 40}  # long enough that the relayed kill lands mid-run
    reference = TrainConfig(**settings, micro_batches=2, out=tmp_path / "serial")
    train(reference)
    cfg = TrainConfig(**settings, nproc=2, out=tmp_path / "ddp")

    def kill_a_rank(row):
        if row["epoch"] == 1:  # relayed from rank 0 after it saved epoch 1's checkpoint
            ranks = sorted(multiprocessing.active_children(), key=lambda p: p.name)
            os.kill(ranks[-1].pid, signal.SIGKILL)

    with pytest.raises(DistributedError, match="was killed"):
        train(cfg, Callbacks(on_epoch_end=kill_a_rank))
    paths = run_paths(cfg)
    assert not (paths.dir / ".DONE").exists()
    done = load_checkpoint(paths.checkpoint)["epoch"]
    assert 1 <= done < 40

    logs = []
    result = train(cfg, Callbacks(on_log=logs.append))
    assert result["status"] == "finished" and result["resumed_from_epoch"] == done
    assert any("resuming" in line for line in logs)
    _assert_equal(_weights(cfg), _weights(reference))


def test_conv_flex_ranks_train_the_weights_of_one_process(tmp_path):
    # Dropout draws from the global generator: each part reseeds it, so the ranks draw what one process draws.
    # BatchNorm's running statistics are not compared: DDP keeps rank 0's (updated from its shares only).
    settings = dict(dataset="synthetic-cifar", model="vgg6", width=0.0625, spiking=True, use_flex=True, T=2,
                    epochs=1, batch_size=8, max_batches=2, threads=1, val_fraction=0.02)
    parallel = TrainConfig(**settings, nproc=2, out=tmp_path / "ddp")
    serial = TrainConfig(**settings, micro_batches=2, out=tmp_path / "serial")
    train(parallel), train(serial)
    a, b = _weights(parallel), _weights(serial)
    params = [k for k in a if not any(s in k for s in ("running_", "num_batches_tracked"))]
    assert len(params) > 10
    _assert_equal({k: a[k] for k in params}, {k: b[k] for k in params})


class _Folder:
    """An image-folder-like split: decodes only what ``batches_in_order`` is asked for, and records it."""

    def __init__(self, x, y):
        self.x, self._y, self.decoded = x, y, []

    def __len__(self):
        return len(self._y)

    shape = property(lambda self: tuple(self.x.shape[1:]))
    y = property(lambda self: self._y)

    def batches_in_order(self, order, batch_size, *, device=None):
        for s in range(0, len(order), batch_size):
            idx = order[s: s + batch_size]
            self.decoded.extend(idx.tolist())
            yield self.x[idx].float() / 255, self._y[idx]


@pytest.mark.parametrize("folder", [False, True])
def test_each_rank_reads_its_share_of_the_one_process_batches(folder):
    from snncli.data import ImageSet, iterate_batches

    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(0, 256, (21, 1, 2, 2), dtype=torch.uint8, generator=g), torch.randint(0, 3, (21,), generator=g)
    serial = list(iterate_batches(ImageSet(x, y, ["a", "b", "c"], "t"), 8, shuffle=True, generator=torch.Generator().manual_seed(5)))
    seen = []
    for rank in range(2):
        data = _Folder(x, y) if folder else ImageSet(x, y, ["a", "b", "c"], "t")
        batches = list(World(rank=rank, size=2).batches(data, 8, torch.Generator().manual_seed(5), torch.device("cpu")))
        assert [len(b[1]) for b in batches] == [len(b[1]) for b in serial] == [8, 8, 5]
        for (xs, ys), (xp, yp) in zip(serial, batches):
            lo, hi = shard_bounds(len(ys), rank, 2)
            assert torch.equal(xp[lo:hi], xs[lo:hi]) and torch.equal(yp[lo:hi], ys[lo:hi])
            assert not xp[:lo].any() and not xp[hi:].any()  # the other rank's rows are not read
        if folder:
            seen += data.decoded
    if folder:
        assert sorted(seen) == list(range(21))  # every image decoded once, by one rank
