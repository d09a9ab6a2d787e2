"""``snn plasticity``: a supervised SNN, then unsupervised post-training plasticity, with the seed's report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from ..config import load_config_file
from ..config.plasticity import PlasticityConfig
from ..data import ENCODINGS, list_datasets
from ..plasticity import list_rules
from ..neurons import SURROGATES
from .errors import user_errors
from .options import ConfigFile, JsonOut, collect, opt
from .progress import TrainProgress, result_table, stderr

app = typer.Typer()
P = PlasticityConfig
BASE, POST, STDP, RUN = "Supervised baseline", "Post-training", "STDP-only baseline (--baseline stdp)", "Run"


class PlasticityProgress:
    """Baseline training through :class:`TrainProgress`; post-training epochs as lines (a bar on a terminal)."""

    def __init__(self, epochs: int) -> None:
        self.train = TrainProgress()
        self.train_cbs = self.train.callbacks(epochs)
        self.bar: Progress | None = None
        self.task = None

    def callbacks(self):
        from ..jobs.plasticity import PlasticityCallbacks

        return PlasticityCallbacks(
            train=self.train_cbs, on_log=self.train.log, on_post_start=self.post_start,
            on_post_batch=self.post_batch, on_post_epoch=self.post_epoch,
        )

    def post_start(self, eta: float, epoch: int, batches: int) -> None:
        self.train.close()
        if not stderr.is_terminal:
            return
        if self.bar is None:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                console=stderr, transient=True)
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


@app.command("plasticity")
def plasticity_command(
    rule: Annotated[Optional[str], opt(P, "rule", choices=list_rules(), panel=POST)] = None,
    eta: Annotated[Optional[list[float]], opt(P, "eta", panel=POST)] = None,
    post_epochs: Annotated[Optional[int], opt(P, "post_epochs", "--post-epochs", "--post_epochs", panel=POST)] = None,
    tau: Annotated[Optional[float], opt(P, "tau", panel=POST)] = None,
    baseline: Annotated[Optional[str], opt(P, "baseline", panel=BASE)] = None,
    checkpoint: Annotated[Optional[Path], opt(P, "checkpoint", "--checkpoint", metavar="RUN", panel=BASE)] = None,
    dataset: Annotated[Optional[str], opt(P, "dataset", choices=list_datasets(), panel=BASE)] = None,
    data_root: Annotated[Optional[Path], opt(P, "data_root", "--data-root", "--data_root", panel=BASE)] = None,
    hidden_dim: Annotated[Optional[int], opt(P, "hidden_dim", "--hidden-dim", "--hidden_dim", panel=BASE)] = None,
    T: Annotated[Optional[int], opt(P, "T", "--T", "-T", panel=BASE)] = None,
    beta: Annotated[Optional[float], opt(P, "beta", panel=BASE)] = None,
    surrogate: Annotated[Optional[str], opt(P, "surrogate", choices=list(SURROGATES), panel=BASE)] = None,
    enc: Annotated[Optional[str], opt(P, "enc", choices=ENCODINGS, panel=BASE)] = None,
    epochs: Annotated[Optional[int], opt(P, "epochs", panel=BASE)] = None,
    batch_size: Annotated[Optional[int], opt(P, "batch_size", "--batch-size", "--batch_size", "-b", panel=BASE)] = None,
    lr: Annotated[Optional[float], opt(P, "lr", panel=BASE)] = None,
    alpha_reg: Annotated[Optional[float], opt(P, "alpha_reg", "--alpha-reg", "--alpha_reg", panel=BASE)] = None,
    weight_clip: Annotated[Optional[float], opt(P, "weight_clip", "--weight-clip", "--weight_clip", panel=BASE)] = None,
    val_fraction: Annotated[Optional[float], opt(P, "val_fraction", "--val-fraction", panel=BASE)] = None,
    stdp_epochs: Annotated[Optional[int], opt(P, "stdp_epochs", "--stdp-epochs", panel=STDP)] = None,
    stdp_eta: Annotated[Optional[float], opt(P, "stdp_eta", "--stdp-eta", panel=STDP)] = None,
    out: Annotated[Optional[Path], opt(P, "out", "--out", "-o", panel=RUN)] = None,
    seed: Annotated[Optional[int], opt(P, "seed", panel=RUN)] = None,
    device: Annotated[Optional[str], opt(P, "device", panel=RUN)] = None,
    max_batches: Annotated[Optional[int], opt(P, "max_batches", "--max-batches", panel=RUN)] = None,
    force: Annotated[Optional[bool], opt(P, "force", "--force/--no-force", panel=RUN)] = None,
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Train the seed's 784-512-10 LIF network, then change it with an unsupervised local rule; write the report.

    The baseline is a resumable `snn train` run shared by every rule. Each eta starts from it, is evaluated (test accuracy, macro F1) after every post-training epoch and is saved as soon as it finishes: an interrupted run re-runs only what is missing.

    Examples:

      snn plasticity --epochs 3 --eta 1e-5 --eta 1e-4            # the seed study, gentle and strong

      snn plasticity --rule stdp --checkpoint runs/my_mlp_run     # start from a trained run

      snn plasticity --baseline stdp                              # the network trained by STDP alone
    """
    values = {k: v for k, v in locals().items() if k not in ("config", "json_out")}
    from ..jobs.plasticity import run_plasticity

    with user_errors():
        file_values = load_config_file(config) if config else {}
        cfg = PlasticityConfig(**collect(values, file_values))
        progress = PlasticityProgress(cfg.epochs)
        try:
            result = run_plasticity(cfg, progress.callbacks())
        finally:
            progress.close()
    if json_out:
        typer.echo(json.dumps(result, default=str))
        return
    table = result_table(_flat(result), list(_flat(result)))
    Console().print(table)


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
