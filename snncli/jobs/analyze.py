"""``snn analyze``: every analysis part with small settings, then ``report.md`` linking all outputs."""

from __future__ import annotations

import time
from typing import Any, Callable, TypedDict

from ..config import AnalyzeConfig, AttackConfig, GradflowConfig, HessianConfig, LandscapeConfig, VisualizeConfig
from ..atomic import WriteError
from ..engine.checkpoint import CheckpointError
from ..engine.writers import write_text_atomic
from .attack import attack
from .common import AnalysisCallbacks, AnalysisInputError, prepare
from .gradflow import gradflow
from .hessian import hessian
from .landscape import landscape
from .reports.analysis import report_markdown
from .visualize import visualize


class AnalyzeResult(TypedDict):
    """What ``snn analyze`` returns: each part's status (ok, failed, skipped), time and result."""

    run: str
    report: str
    parts: dict[str, dict[str, Any]]


def analyze(cfg: AnalyzeConfig, callbacks: AnalysisCallbacks | None = None) -> AnalyzeResult:
    """``snn analyze``: every part with small settings, then ``report.md`` linking all outputs.

    A part that fails is reported (its error in the report and the result) and the others
    still run; the report is rewritten after every part.
    """
    cb, device, run, folder = prepare(cfg, callbacks)
    common = dict(run=cfg.run, device=cfg.device, seed=cfg.seed, out=folder)
    if cfg.protocol == "seed":
        return _analyze(cfg, cb, run, folder, _seed_jobs(cfg, cb, folder, common))
    jobs: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("visualize", lambda: visualize(VisualizeConfig(**common, what=["all"], batch_size=cfg.batch_size, eval_samples=2000), cb)),
        ("gradflow", lambda: gradflow(GradflowConfig(**common, batches=max(cfg.batches, 2), batch_size=cfg.batch_size), cb)),
        ("attack", lambda: attack(AttackConfig(
            runs=[cfg.run], attacks=["pgd", "spsa", "noise"], device=cfg.device, seed=cfg.seed, out=folder,
            eps=cfg.eps, steps=cfg.steps, sample_size=cfg.sample_size, batch_size=cfg.batch_size, spsa_samples=16), cb)),
        ("hessian", lambda: hessian(HessianConfig(**common, batches=cfg.batches, batch_size=cfg.batch_size, top_k=1,
                                                  iters=15, trace_iters=10, density_steps=10, per_layer=True), cb)),
        ("landscape", lambda: landscape(LandscapeConfig(**common, directions="random", dims=2, resolution=cfg.resolution,
                                                        batches=cfg.batches, batch_size=cfg.batch_size), cb)),
    ]
    return _analyze(cfg, cb, run, folder, jobs)


def _seed_jobs(cfg: AnalyzeConfig, cb: AnalysisCallbacks, folder, common: dict) -> list:
    """The parts under ``--protocol seed``: the seed's attack (PGD), Hessian and landscape protocols; flags
    the user gave explicitly (seed, sample size, resolution) still win over the protocol's values."""
    given = cfg.model_fields_set
    mine = {k: v for k, v in common.items() if k != "seed" or "seed" in given}
    attack_kw = {"sample_size": cfg.sample_size} if "sample_size" in given else {}
    landscape_kw = {"resolution": cfg.resolution} if "resolution" in given else {}
    return [
        ("visualize", lambda: visualize(VisualizeConfig(**common, what=["all"], batch_size=cfg.batch_size, eval_samples=2000), cb)),
        ("gradflow", lambda: gradflow(GradflowConfig(**common, batches=max(cfg.batches, 2), batch_size=cfg.batch_size), cb)),
        ("attack", lambda: attack(AttackConfig(runs=[cfg.run], attacks=["pgd"], protocol="seed",
                                               **{k: v for k, v in mine.items() if k != "run"}, **attack_kw), cb)),
        ("hessian", lambda: hessian(HessianConfig(**mine, protocol="seed"), cb)),
        ("landscape", lambda: landscape(LandscapeConfig(**mine, protocol="seed", **landscape_kw), cb)),
    ]


def _analyze(cfg: AnalyzeConfig, cb: AnalysisCallbacks, run, folder, jobs: list) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for part, job in jobs:
        if part in cfg.skip:
            parts[part] = {"status": "skipped"}
            continue
        cb.on_log(f"== {part}")
        start = time.perf_counter()
        try:
            parts[part] = {"status": "ok", **job()}
        except (KeyboardInterrupt, CheckpointError, AnalysisInputError, WriteError):  # the next part would fail alike
            raise
        except Exception as exc:  # one failing part must not cost the others
            parts[part] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
            cb.on_log(f"{part} failed: {parts[part]['error']}")
        parts[part]["time_s"] = round(time.perf_counter() - start, 2)
        write_text_atomic(folder / "report.md", report_markdown(run, folder, parts))
    write_text_atomic(folder / "report.md", report_markdown(run, folder, parts))
    return {"run": str(run.dir), "protocol": cfg.protocol, "report": str(folder / "report.md"), "parts": parts}
