"""``report.md`` of ``snn plasticity``: the baseline, the post-training trajectories, the figures, the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...config.plasticity import PlasticityConfig
from ..plasticity.baseline import Baseline
from ..plasticity.common import eta_tag, regimes
from ..plasticity.seed_files import BASELINE_STATES, POST_STATES, post_state_name


def _describe_input(t: Any) -> str:
    if t.enc_scale == 1.0 and t.enc_bias == 0.0:
        return f"{t.enc} input, pixels in [0, 1]"
    std, mean = 1.0 / t.enc_scale, -t.enc_bias / t.enc_scale
    return f"{t.enc} input normalised as (x − {mean:.4g}) / {std:.4g}"


def _rule_text(cfg: PlasticityConfig) -> str:
    if cfg.rule == "hebb-anti-hebb":
        return f"`hebb-anti-hebb` (ΔW_ji = η ⟨x_i (y_j − {cfg.lambda_ltd:g} ȳ)⟩, the seed's rule)"
    if cfg.rule == "stdp":
        return f"`stdp` (τ = {cfg.tau:g} steps)"
    return f"`{cfg.rule}`"


def report_markdown(cfg: PlasticityConfig, base: Baseline, before: dict[str, Any], results: dict[float, dict[str, Any]],
                    figs: dict[str, list[str]], run_dir: Path) -> str:
    t = base.tcfg
    names = regimes(cfg.eta)
    finished = sorted(results)
    clip = "no clipping" if t.weight_clip is None else f"weights and biases clipped to ±{t.weight_clip:g}"
    post_clip = ("no clipping" if not cfg.post_clip
                 else f"{'weights and biases' if cfg.clip_biases else 'weights'} clipped to ±{cfg.post_clip:g} after every batch")
    penalty = "the mean of the output spikes" if t.alpha_reg_term == "output-mean" else "spikes per sample, every layer and step"
    lines = [
        f"# Post-training plasticity: {cfg.rule} on {t.dataset}",
        "",
        f"A {'-'.join(map(str, base.model.sizes))} LIF network (beta {t.beta}, T {t.T}, {_describe_input(t)}, "
        f"{t.surrogate} surrogate) trained with surrogate-gradient BPTT for {len(base.history)} epochs (Adam {t.lr:g}, "
        f"batch {t.batch_size}, cross-entropy on output spike counts + {t.alpha_reg:g} × {penalty}, {clip}), then changed "
        f"with no labels by {_rule_text(cfg)} for {cfg.post_epochs} passes over the training set in full batches of "
        f"{cfg.batch_size}"
        + (f" (each capped at {cfg.max_batches} batches)" if cfg.max_batches else "")
        + f", every layer from one forward pass per batch, {post_clip}. Baseline run: `{base.source}`.",
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
              f"Test accuracy (%) and macro F1 before post-training (epoch 0) and after each epoch; "
              "every eta starts from the baseline weights.", ""]
    header = "| eta | regime | " + " | ".join(f"epoch {i}" for i in range(cfg.post_epochs + 1)) + " | macro F1 before → after |"
    lines += [header, "| ---: | --- |" + " ---: |" * (cfg.post_epochs + 2)]
    for eta in finished:
        traj = results[eta]["trajectory"]
        accs = " | ".join(f"{100 * r['test_acc']:.2f}" for r in traj)
        lines.append(f"| {eta_tag(eta)} | {names[eta]} | {accs} | {traj[0]['macro_f1']:.4f} → {traj[-1]['macro_f1']:.4f} |")
    lines += ["", *(f"![{f}]({f})" for f in figs["post"]), ""]
    gentle = min(names)
    if gentle in results:
        lines += ["## Per-class metrics", "",
                  f"Precision, recall and F1 per class (scikit-learn's definitions), baseline → post-trained with the gentle "
                  f"η={eta_tag(gentle)}; every eta's in `per_class_metrics.json`.", ""]
        lines += ["| class | precision | recall | F1 |", "| --- | ---: | ---: | ---: |"]
        b, p = before["metrics"]["per_class"], results[gentle]["metrics"]["per_class"]
        for c in b:
            lines.append(f"| {c} | {b[c]['precision']:.3f} → {p[c]['precision']:.3f} | {b[c]['recall']:.3f} → {p[c]['recall']:.3f} "
                         f"| {b[c]['f1']:.3f} → {p[c]['f1']:.3f} |")
        lines.append("")
    lines += ["## Figures", "",
              "Confusion matrices (rows: true class, colour: share of the row):", "", *(f"![{f}]({f})" for f in figs["confusion"]), "",
              "Weight histograms per layer, baseline against post-trained:", "", *(f"![{f}]({f})" for f in figs["weights"]), "",
              "Spikes for the first test image: the input, the hidden layer over time, the output spike count per class; "
              "and the hidden-layer raster:", "", *(f"![{f}]({f})" for f in figs["spikes"]), "",
              "The learning window of the `stdp` rule, measured on the rule (one pre and one post spike per lag):", "",
              *(f"![{f}]({f})" for f in figs["rule"]), ""]
    stdp_only = run_dir.parent / "stdp_baseline" / "result.json"
    if stdp_only.exists():
        s = json.loads(stdp_only.read_text())
        lines += ["## STDP-only baseline", "",
                  f"The same hidden layer trained by STDP alone and read out by neuron-to-class assignment: "
                  f"test accuracy **{100 * s['test_acc']:.2f}%**, macro F1 {s['macro_f1']:.4f} (`{stdp_only.parent}`).", ""]
    lines += ["## Files", "",
              f"- {', '.join(f'`{n}`' for n in BASELINE_STATES)}: the baseline; {', '.join(f'`{n}`' for n in POST_STATES)}: after "
              f"post-training with the gentle η; `{post_state_name(gentle).replace(eta_tag(gentle), '<η>')}` per η — weights in the "
              "seed notebook's `SupervisedSNN` layout (`fc1`, `lif1`, `fc2`, `lif2`)",
              "- `training_curves.csv` / `.json`, `post_training_accuracy.json` (`<regime>_lr_eta_<η>`), `per_class_metrics.json`, "
              "`experiment_config.json`: the seed's files and keys (accuracies in percent)",
              "- `result.json`: the numbers as fractions and every setting; `post_training/eta<η>.json`: each eta's full record",
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
