"""``report.md`` of ``snn plasticity``: the baseline, the post-training trajectories, the figures, the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...config.plasticity import PlasticityConfig
from ..plasticity.baseline import Baseline
from ..plasticity.seed_files import BASELINE_STATE, POST_STATE


def report_markdown(cfg: PlasticityConfig, base: Baseline, before: dict[str, Any], results: dict[float, dict[str, Any]],
            figs: dict[str, list[str]], several: bool, run_dir: Path) -> str:
    t = base.tcfg
    lines = [
        f"# Post-training plasticity: {cfg.rule} on {t.dataset}",
        "",
        f"A {'-'.join(map(str, base.model.sizes))} LIF network (beta {t.beta}, T {t.T}, {t.enc} input) trained with surrogate-gradient "
        f"BPTT for {len(base.history)} epochs (Adam {t.lr:g}, batch {t.batch_size}, cross-entropy on output spike counts, "
        f"spike-activity penalty alpha {t.alpha_reg:g}, weights clipped to ±{t.weight_clip}), then changed with no labels by the "
        f"`{cfg.rule}` rule for {cfg.post_epochs} passes over the training set"
        + (f" (each capped at {cfg.max_batches} batches of {cfg.batch_size})" if cfg.max_batches else "")
        + ", every layer, same clipping. "
        f"Baseline run: `{base.source}`.",
        "",
        "## Supervised baseline",
        "",
        f"- test accuracy **{100 * before['acc']:.2f}%**, macro F1 **{before['macro_f1']:.4f}**"
        + (f", final train accuracy {100 * base.history[-1]['train_acc']:.2f}%" if base.history else ""),
        "",
    ]
    if base.history:
        lines += ["| epoch | train acc (%) | test acc (%) |", "| ---: | ---: | ---: |"]
        lines += [f"| {r['epoch']} | {100 * r['train_acc']:.2f} | {100 * r['test_acc']:.2f} |" for r in base.history]
        lines += ["", *(f"![{f}]({f})" for f in figs["training"]), ""]
    lines += ["## Post-training", "",
              f"Test accuracy (%) and macro F1 before post-training (epoch 0) and after each epoch of `{cfg.rule}`; "
              "every eta starts from the baseline weights.", ""]
    header = "| eta | " + " | ".join(f"epoch {i}" for i in range(cfg.post_epochs + 1)) + " | macro F1 before → after |"
    lines += [header, "|" + " ---: |" * (cfg.post_epochs + 3)]
    for eta in (e for e in cfg.eta if e in results):
        traj = results[eta]["trajectory"]
        accs = " | ".join(f"{100 * r['test_acc']:.2f}" for r in traj)
        lines.append(f"| {eta:g} | {accs} | {traj[0]['macro_f1']:.4f} → {traj[-1]['macro_f1']:.4f} |")
    lines += ["", *(f"![{f}]({f})" for f in figs["post"]), ""]
    lines += ["## Per-class metrics", "", "Precision, recall and F1 per class (scikit-learn's definitions), baseline → post-trained "
              f"(η={next(iter(e for e in cfg.eta if e in results), cfg.eta[0]):g}); all of them in `per_class_metrics.json`.", ""]
    first = next((e for e in cfg.eta if e in results), None)
    if first is not None:
        lines += ["| class | precision | recall | F1 |", "| --- | ---: | ---: | ---: |"]
        b, p = before["metrics"]["per_class"], results[first]["metrics"]["per_class"]
        for c in b:
            lines.append(f"| {c} | {b[c]['precision']:.3f} → {p[c]['precision']:.3f} | {b[c]['recall']:.3f} → {p[c]['recall']:.3f} "
                         f"| {b[c]['f1']:.3f} → {p[c]['f1']:.3f} |")
        lines.append("")
    lines += ["## Figures", "",
              "Confusion matrices (rows: true class, colour: share of the row):", "", *(f"![{f}]({f})" for f in figs["confusion"]), "",
              "Weight histograms per layer, baseline against post-trained:", "", *(f"![{f}]({f})" for f in figs["weights"]), "",
              "Spikes for the first test image: the input, the hidden layer over time, the output spike count per class; "
              "and the hidden-layer raster:", "", *(f"![{f}]({f})" for f in figs["spikes"]), ""]
    stdp_only = run_dir.parent / "stdp_baseline" / "result.json"
    if stdp_only.exists():
        s = json.loads(stdp_only.read_text())
        lines += ["## STDP-only baseline", "",
                  f"The same hidden layer trained by STDP alone and read out by neuron-to-class assignment: "
                  f"test accuracy **{100 * s['test_acc']:.2f}%**, macro F1 {s['macro_f1']:.4f} (`{stdp_only.parent}`).", ""]
    lines += ["## Files", "",
              f"- `{BASELINE_STATE}`, `{POST_STATE}.pt` (η={cfg.eta[0]:g})"
              + (f", `{POST_STATE}_eta<η>.pt` per eta" if several else "")
              + ": weights in the seed notebook's `SupervisedSNN` layout (`fc1`, `lif1`, `fc2`, `lif2`)",
              "- `training_curves.csv` / `.json`, `post_training_accuracy.json`, `per_class_metrics.json`: accuracies in percent, "
              "as the seed wrote them",
              "- `experiment_config.json`: every setting; `post_training/eta<η>.json`: each eta's full record",
              ""]
    return "\n".join(lines)


def stdp_report_markdown(cfg: PlasticityConfig, n_in: int, weight_sum: float, metrics: dict[str, Any], neurons_used: int) -> str:
    """``report.md`` of the STDP-only baseline."""
    return "\n".join([
        f"# STDP-only baseline on {cfg.dataset}", "",
        f"{n_in}-{cfg.hidden_dim} layer, rate-coded input over T={cfg.T} steps, one winner per sample and step, "
        f"potentiation-only STDP (eta {cfg.stdp_eta:g}, tau {cfg.tau:g} steps), weights renormalised to sum {weight_sum:g} "
        f"per neuron, adaptive thresholds; {cfg.stdp_epochs} epoch(s). Read out by assigning each neuron to the class it fires "
        "most for (training labels used only for that).", "",
        f"- test accuracy **{100 * metrics['accuracy']:.2f}%**, macro F1 **{metrics['macro']['f1']:.4f}**, "
        f"{neurons_used} of {cfg.hidden_dim} neurons ever fired", "",
        "![confusion](cm_stdp_baseline.png)", "", "![receptive fields](stdp_receptive_fields.png)", "",
    ]) + "\n"
