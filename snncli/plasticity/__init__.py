"""Local, unsupervised learning rules (Hebbian, anti-Hebbian, Oja, STDP) as pure functions on tensors,
and the competitive (winner-take-all) pieces of the STDP-only baseline."""

from .competitive import (
    assign_classes,
    normalize_rows,
    predict_by_assignment,
    update_thresholds,
    wta_spikes,
)
from .rules import RULES, Rule, get_rule, list_rules, pair_window, register_rule, traces
from .stdp_baseline import CompetitiveLayer, init_layer, spike_counts, stdp_step

__all__ = [
    "CompetitiveLayer", "RULES", "Rule", "assign_classes", "get_rule", "init_layer", "list_rules", "normalize_rows",
    "pair_window", "predict_by_assignment", "register_rule", "spike_counts", "stdp_step", "traces", "update_thresholds",
    "wta_spikes",
]
