"""``snn plasticity``: a supervised SNN, then unsupervised post-training plasticity, with the seed's report."""

from __future__ import annotations

from typing import Any

import typer
from rich.progress import Progress, TextColumn

from ..config.plasticity import PlasticityConfig
from .generate import command, options
from .options import with_config_file
from .progress import TrainProgress, progress_bar, result_table, stderr
from .run import run_job

app = typer.Typer()


class PlasticityProgress:
    """Baseline training through :class:`TrainProgress`; post-training epochs as lines (a bar on a terminal)."""

    def __init__(self) -> None:
        self.train = TrainProgress()
        self.bar: Progress | None = None
        self.task = None

    def callbacks(self, cfg: PlasticityConfig):
        from ..jobs.plasticity import PlasticityCallbacks

        return PlasticityCallbacks(
            train=self.train.callbacks(cfg), on_log=self.train.log, on_post_start=self.post_start,
            on_post_batch=self.post_batch, on_post_epoch=self.post_epoch,
        )

    def post_start(self, eta: float, epoch: int, batches: int) -> None:
        self.train.close()
        if not stderr.is_terminal:
            return
        if self.bar is None:
            self.bar = progress_bar(TextColumn("{task.description}"))
            self.bar.start()
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(f"η={eta:g} epoch {epoch + 1}", total=batches)

    def post_batch(self, i: int) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=i + 1)

    def post_epoch(self, row: dict[str, Any]) -> None:
        stderr.print(f"η={row['eta']:g} epoch {row['epoch']}: test_acc={row['test_acc']:.4f} "
                     f"macro_f1={row['macro_f1']:.4f} ({row['time_s']:.1f}s)")

    def close(self) -> None:
        self.train.close()
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def plasticity_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Train the seed's 784-512-10 LIF network, then change it with an unsupervised local rule; write the seed's files.

    Defaults are the seed notebook's: normalised input as a constant current, fast-sigmoid surrogate, the output-spike penalty, no clipping while training; then its Hebbian/anti-Hebbian rule at the gentle (1e-5) and strong (1e-4) eta, weights clipped to ±1. The baseline is a resumable `snn train` run shared by every rule. Each eta starts from it, is evaluated (test accuracy, macro F1) after every post-training epoch and is saved as soon as it finishes: an interrupted run re-runs only what is missing.

    Examples:

      snn plasticity                                              # the seed study on Fashion-MNIST

      snn plasticity --rule stdp --checkpoint runs/my_mlp_run     # start from a trained run

      snn plasticity --baseline stdp                              # the network trained by STDP alone
    """
    from ..jobs.plasticity import run_plasticity  # torch: imported when the command runs

    run_job(run_plasticity, lambda: PlasticityConfig(**with_config_file(values, config, seed_format=False)), json_out,
            lambda r: result_table(_flat(r), list(_flat(r))), PlasticityProgress())


def _flat(result: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers as one column of the result table."""
    if result.get("baseline") == "stdp":
        return {k: result[k] for k in ("run_dir", "test_acc", "macro_f1", "time_s")}
    rows: dict[str, Any] = {"run_dir": result["run_dir"], "rule": result["rule"],
                            "baseline test_acc": result["baseline"]["test_acc"],
                            "baseline macro_f1": result["baseline"]["macro_f1"]}
    for eta, traj in result["post_training"].items():
        rows[f"η={eta} test_acc"] = " → ".join(f"{a:.4f}" for a in traj["test_acc"])
        rows[f"η={eta} macro_f1"] = " → ".join(f"{a:.4f}" for a in traj["macro_f1"])
    rows["time_s"] = result["time_s"]
    return rows


command(app, "plasticity", plasticity_command, options(PlasticityConfig), models=[PlasticityConfig])
