"""Figures: matplotlib only, headless (Agg). Nothing outside this package draws.

Every function takes plain tensors, lists or dicts (never a model or a run), writes one PNG
(or, for animations, one GIF) atomically and returns its path.
"""

from .confusion import plot_confusion
from .curvature import (
    animate_landscape,
    plot_landscape_1d,
    plot_landscape_contour,
    plot_landscape_surface,
    plot_layer_eigenvalues,
    plot_spectral_density,
)
from .features import plot_feature_maps, plot_masks
from .gradflow import plot_gradient_flow
from .robustness import plot_adversarial_examples, plot_attack_curves
from .spikes import plot_firing_rates, plot_layer_rasters, plot_membrane, plot_raster
from .training import plot_curves
from .weights import plot_weight_histograms

__all__ = [
    "animate_landscape", "plot_adversarial_examples", "plot_attack_curves", "plot_feature_maps", "plot_gradient_flow", "plot_landscape_1d", "plot_landscape_contour",
    "plot_landscape_surface", "plot_layer_eigenvalues", "plot_masks", "plot_spectral_density",
    "plot_confusion", "plot_curves", "plot_firing_rates", "plot_layer_rasters", "plot_membrane", "plot_raster",
    "plot_weight_histograms",
]
