"""Every long phase reports progress: evaluation, crossval folds (and their epochs), sweep points, Hessian parts."""

from collections import defaultdict

from snncli.config import CrossvalConfig, HessianConfig, SweepConfig, TrainConfig
from snncli.engine import Callbacks, train
from snncli.jobs.common import JobCallbacks

TINY = dict(dataset="synthetic", model="mlp", hidden_dim=16, T=3, epochs=1, max_batches=2, batch_size=64)


def _recorder():
    seen = defaultdict(list)
    return seen, lambda task, done, total: seen[task].append((done, total))


def _finished(events):
    return events and events[-1][0] == events[-1][1]


def test_evaluation_reports_its_batches(tmp_path):
    seen, on_progress = _recorder()
    train(TrainConfig(**TINY, out=tmp_path), Callbacks(on_progress=on_progress))
    # 200 validation and 500 test samples in batches of 512: one and one.
    assert seen["evaluate val"] == [(1, 1)] and seen["evaluate test"] == [(1, 1)]


def test_crossval_reports_folds_and_each_folds_epochs(tmp_path):
    from snncli.jobs.crossval import crossval

    seen, on_progress = _recorder()
    crossval(CrossvalConfig(**TINY, k_folds=2, out=tmp_path), JobCallbacks(on_progress=on_progress))
    assert seen["folds"] == [(0, 2), (1, 2), (2, 2)]
    for fold in (0, 1):
        assert _finished(seen[f"fold {fold} epoch 1/1"]) and _finished(seen[f"fold {fold} evaluate test"])


def test_sweep_reports_points(tmp_path):
    from snncli.jobs.sweep import run_sweep

    seen, on_progress = _recorder()
    run_sweep(SweepConfig(grid=["lr=0.001,0.01"], base={**TINY, "out": str(tmp_path)}), JobCallbacks(on_progress=on_progress))
    assert seen["points"] == [(0, 2), (1, 2), (2, 2)]
    assert _finished(seen["point 2/2 lr=0.01 epoch 1/1"])


def test_hessian_reports_each_part_until_it_is_done(run_dir, tmp_path):
    from snncli.jobs.hessian import hessian

    seen, on_progress = _recorder()
    hessian(HessianConfig(run=run_dir, batches=1, batch_size=8, top_k=1, iters=3, trace_iters=3, density_steps=3,
                          out=tmp_path), JobCallbacks(on_progress=on_progress))
    assert set(seen) == {"Hessian eigenvalues", "Hessian trace", "Hessian density"}
    for task, events in seen.items():
        assert _finished(events) and events[-1][1] == 3, task
        assert [d for d, _ in events] == sorted(d for d, _ in events)
