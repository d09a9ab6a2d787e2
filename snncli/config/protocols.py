"""The PlasticFlex seed's analysis protocols as settings: what ``--protocol seed`` fills in.

The attack protocol (per-attack eps grids and settings) lives beside the attacks, in
:mod:`snncli.attacks.protocol`; these are the curvature and loss-surface ones.
"""

from __future__ import annotations

#: ``HessianAnalysis`` as the seed's ``run_analysis_suite.py`` calls it: one fixed batch of 16 random
#: training images (numpy seed 42), the top 5 eigenvalues, PyHessian's default iteration counts
#: (100 power iterations at tolerance 1e-3; 100 Hutchinson samples; 100 Lanczos steps, one run).
SEED_HESSIAN = {
    "split": "train", "batch_size": 16, "batches": 1, "top_k": 5, "iters": 100, "tol": 1e-3,
    "trace_iters": 100, "density_steps": 100, "density_runs": 1, "seed": 42, "save_eigenvectors": True,
}

#: ``PlotLossSurface`` + ``visualize_loss_surface_3d``/``_gif``: ``loss_landscapes.random_plane`` (distance 1,
#: filter normalisation) on the first training batch of the run's batch size (file order), drawn
#: smoothed by a Gaussian of one grid step, as a 3-D surface and a 120-frame GIF. The seed's grid is
#: 100 x 100 half a step off-centre; ours 101 x 101 so the trained point sits in the middle.
SEED_LANDSCAPE = {
    "directions": "seed", "dims": 2, "range": 1.0, "resolution": 101, "batches": 1, "split": "train",
    "first_batches": True, "smooth": 1.0, "gif": True, "seed": 42,
}
#: the seed's animation: 120 frames at 30 per second, elevation 30 degrees
SEED_ANIMATION = {"frames": 120, "fps": 30, "elevation": 30.0}
