"""One small trained run shared by the analysis, attack and CLI tests (trained once per session)."""

from __future__ import annotations

from pathlib import Path

from snncli.config import TrainConfig

#: A tiny network on the synthetic dataset: trains in seconds and is far above chance.
SETTINGS = dict(dataset="synthetic", model="mlp", hidden_dim=32, T=4, epochs=2, batch_size=64, lr=3e-3, seed=0)


def trained_run(base: Path, **overrides) -> Path:
    """The run folder of ``SETTINGS`` (plus ``overrides``) under ``base``; trained on first use."""
    from snncli.engine import run_paths, train

    cfg = TrainConfig(**{**SETTINGS, **overrides, "out": base / "trained_runs"})
    paths = run_paths(cfg)
    if not paths.done.exists():
        train(cfg)
    return paths.dir
