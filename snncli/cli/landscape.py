"""``snn landscape``: loss and accuracy surfaces around a run's trained weights."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import LandscapeConfig
from .analysis_common import (
    RUN_HELP,
    Device,
    Out,
    Seed,
    files_table,
    run_command,
)
from .options import ConfigFile, JsonOut, opt

app = typer.Typer()
C = LandscapeConfig


@app.command("landscape")
def landscape_command(
    run: Annotated[Path, typer.Argument(help=RUN_HELP, show_default=False)],
    directions: Annotated[Optional[str], opt(C, "directions")] = None,
    dims: Annotated[Optional[int], opt(C, "dims", "--dims", "--dim")] = None,
    range: Annotated[Optional[float], opt(C, "range", "--range")] = None,  # noqa: A002 - the flag's name
    resolution: Annotated[Optional[int], opt(C, "resolution")] = None,
    batches: Annotated[Optional[int], opt(C, "batches")] = None,
    batch_size: Annotated[Optional[int], opt(C, "batch_size", "--batch-size")] = None,
    hessian_iters: Annotated[Optional[int], opt(C, "hessian_iters", "--hessian-iters")] = None,
    split: Annotated[Optional[str], opt(C, "split")] = None,
    first_batches: Annotated[Optional[bool], opt(C, "first_batches", "--first-batches/--random-batches")] = None,
    train_mode: Annotated[Optional[bool], opt(C, "train_mode", "--train-mode/--eval-mode")] = None,
    smooth: Annotated[Optional[float], opt(C, "smooth")] = None,
    gif: Annotated[Optional[bool], opt(C, "gif", "--gif/--no-gif")] = None,
    protocol: Annotated[Optional[str], opt(C, "protocol")] = None,
    device: Annotated[Optional[str], Device] = None,
    seed: Annotated[Optional[int], Seed] = None,
    out: Annotated[Optional[Path], Out] = None,
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Loss and accuracy on a grid around the trained weights (Li et al., 2018).

    Directions are filter-normalised random ones, the top Hessian eigenvectors, or the PlasticFlex seed's random plane; the grid spans [-range, range] with --resolution points (odd: the centre is the trained model). --protocol seed is the seed's: its plane over 101x101 points on the first training batch, drawn smoothed in 3-D and as a rotating GIF. Writes analysis/landscape.npz, landscape.json and contour, 3-D surface (landscape_surface.gif with --gif) and accuracy plots (a curve for --dims 1).

    Examples:

      snn landscape runs/my_run

      snn landscape runs/my_run --directions hessian --dims 1 --range 0.5 --resolution 21

      snn landscape runs/my_run --protocol seed --resolution 41     # the seed's plane, a coarser grid
    """
    values = {k: v for k, v in locals().items() if k not in ("config", "json_out")}
    from ..jobs.landscape import landscape as job  # torch-heavy: imported only when the command runs

    run_command(job, C, values, config, json_out, lambda r: files_table(r, [
        ("centre loss", r["centre_loss"]), ("model loss", r["model_loss"]), ("centre accuracy", r["centre_accuracy"]),
        ("min loss", r["min_loss"]), ("max loss", r["max_loss"]), ("time_s", r["time_s"]),
    ]))
