"""``snn landscape``: loss and accuracy surfaces around a run's trained weights."""

from __future__ import annotations

from typing import Any

import typer

from ..config import LandscapeConfig
from .generate import command, options
from .run import files_table, run_analysis

app = typer.Typer()


def landscape_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Loss and accuracy on a grid around the trained weights (Li et al., 2018).

    Directions are filter-normalised random ones, the top Hessian eigenvectors, or the PlasticFlex seed's random plane; the grid spans [-range, range] with --resolution points (odd: the centre is the trained model). --protocol seed is the seed's: its plane over 101x101 points on the first training batch, drawn smoothed in 3-D and as a rotating GIF. Writes analysis/landscape.npz, landscape.json and contour, 3-D surface (landscape_surface.gif with --gif) and accuracy plots (a curve for --dims 1).

    Examples:

      snn landscape runs/my_run

      snn landscape runs/my_run --directions hessian --dims 1 --range 0.5 --resolution 21

      snn landscape runs/my_run --protocol seed --resolution 41     # the seed's plane, a coarser grid
    """
    from ..jobs.landscape import landscape as job  # torch: imported when the command runs

    run_analysis(job, LandscapeConfig, values, config, json_out, lambda r: files_table(r, [
        ("centre loss", r["centre_loss"]), ("model loss", r["model_loss"]), ("centre accuracy", r["centre_accuracy"]),
        ("min loss", r["min_loss"]), ("max loss", r["max_loss"]), ("time_s", r["time_s"]),
    ]))


command(app, "landscape", landscape_command, options(LandscapeConfig), models=[LandscapeConfig])
