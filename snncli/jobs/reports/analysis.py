"""``report.md`` of ``snn analyze``: one section per part, every number and a link to every figure and file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ...engine.runs import LoadedRun


def _rel(path: Path, folder: Path) -> str:
    try:
        return str(Path(path).relative_to(folder))
    except ValueError:
        return str(path)


def _fmt(v: Any, digits: int = 4) -> str:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.{digits}g}"
    return str(v)


def report_markdown(run: LoadedRun, folder: Path, parts: dict[str, Any]) -> str:
    """The report: one section per part, every number and a link to every figure and file."""
    c = run.cfg
    last = run.history[-1] if run.history else {}
    lines = [
        f"# Analysis of `{run.checkpoint.stem}`", "",
        f"Run folder: `{run.dir}`  ", f"Model `{c.model}` (hidden {c.hidden_dim}, T={c.T}, {c.enc} coding, "
        f"{c.loss} readout, surrogate {c.surrogate}, beta {c.beta}, threshold {c.threshold}) on `{c.dataset}`, "
        f"{len(run.history)} epoch(s).  ",
        f"Test accuracy {_fmt(last.get('test_acc'))}, best validation accuracy {_fmt(run.val_acc)}.", "",
    ]

    def link(path: str) -> str:
        rel = _rel(Path(path), folder)
        return f"![{rel}]({rel})" if rel.endswith((".png", ".gif")) else f"[{rel}]({rel})"

    def head(title: str, key: str) -> bool:
        p = parts.get(key)
        lines.extend([f"## {title}", ""])
        if p is None:
            lines.extend(["(not run yet)", ""])
            return False
        if p.get("status") == "skipped":
            lines.extend(["Skipped (`--skip`).", ""])
            return False
        if p.get("status") == "failed":
            lines.extend([f"**Failed**: `{p['error']}`", ""])
            return False
        lines.append(f"_{p.get('time_s', 0):.1f} s_")
        lines.append("")
        return True

    if head("Figures of the run (`snn visualize`)", "visualize"):
        v = parts["visualize"]
        if "confusion" in v:
            cm = v["confusion"]
            lines += [f"Test accuracy {_fmt(cm['accuracy'])}, macro F1 {_fmt(cm['macro']['f1'])}, "
                      f"weighted F1 {_fmt(cm['weighted']['f1'])}.", ""]
            lines += ["| class | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
            lines += [f"| {k} | {_fmt(m['precision'], 3)} | {_fmt(m['recall'], 3)} | {_fmt(m['f1'], 3)} | {m['support']} |"
                      for k, m in cm["per_class"].items()]
            lines.append("")
        if "firing_rates" in v:
            lines += ["Firing rate (spikes per neuron per step): " + ", ".join(
                f"{k} {_fmt(r, 3)}" for k, r in v["firing_rates"].items()), ""]
        for what, paths in v["files"].items():
            lines.append(f"### {what}")
            lines += [link(p) for p in paths]
            lines.append("")
        for what, why in v.get("skipped", {}).items():
            lines.append(f"- {what}: skipped ({why})")
        lines.append("")
    if head("Gradient flow (`snn gradflow`)", "gradflow"):
        g = parts["gradflow"]
        lines += ["| tensor | mean abs grad | max abs grad | flag |", "| --- | --- | --- | --- |"]
        lines += [f"| {r['name']} | {_fmt(r['mean_abs'], 3)} | {_fmt(r['max_abs'], 3)} | {r['flag']} |" for r in g["layers"]]
        lines += ["", f"Vanishing: {', '.join(g['vanishing']) or 'none'}; exploding: {', '.join(g['exploding']) or 'none'}.", ""]
        lines += [link(p) for p in g["files"]] + [""]
    if head("Adversarial robustness (`snn attack`)", "attack"):
        a = parts["attack"]
        if a.get("protocol") == "seed":
            lines += ["The PlasticFlex seed's protocol: each attack over its own 23-point eps grid and settings.", ""]
        for r in a["runs"]:
            atks = list(r["attacks"])
            grids = a.get("eps_per_attack") or {k: a["eps"] for k in atks}
            for group in ([atks] if len({tuple(grids[k]) for k in atks}) == 1 else [[k] for k in atks]):
                lines += ["| eps (x/255) | " + " | ".join(group) + " |", "| --- |" + " --- |" * len(group)]
                for i, e in enumerate(grids[group[0]]):
                    lines.append(f"| {_fmt(e * 255)} | " + " | ".join(
                        f"{_fmt(r['attacks'][k][i]['accuracy'], 3)} / {_fmt(r['attacks'][k][i]['robust_accuracy'], 3)}"
                        for k in group) + " |")
                lines.append("")
            for k, summary in r.get("summary", {}).items():
                lines.append(f"- {k}: area under the accuracy-vs-eps curve {_fmt(summary['auc'])} (mean accuracy over the "
                             f"range {_fmt(summary['auc_normalised'], 3)})"
                             + (f"; the seed's AUC {_fmt(summary['auc_seed'])}" if "auc_seed" in summary else ""))
            lines += ["", "Each cell: accuracy on the attack's final images / worst case over every point tried "
                      "(clean image and the adversarial images at this and smaller eps). "
                      "SPSA and noise are gradient-free: if SPSA beats PGD at some eps, PGD's surrogate gradients "
                      "are misleading (gradient masking) and PGD overstates robustness.", ""]
            lines += [link(p) for p in r["files"]] + [""]
    if head("Hessian spectrum (`snn hessian`)", "hessian"):
        h = parts["hessian"]
        split = h.get("settings", {}).get("split", "test")
        lines += [f"On {h['samples']} {split} samples (loss {_fmt(h['loss'])}): top eigenvalues "
                  + ", ".join(_fmt(e) for e in h.get("eigenvalues", [])) + f"; trace {_fmt(h.get('trace'))} "
                  f"({h.get('trace_samples')} Hutchinson samples); extreme Lanczos Ritz values "
                  + ", ".join(_fmt(e) for e in h.get("lanczos_extremes", [])) + f"; {h['parameters']:,} parameters.", ""]
        if h.get("per_layer"):
            lines += ["Per-layer top eigenvalue: " + ", ".join(f"{k} {_fmt(v)}" for k, v in h["per_layer"].items()), ""]
        lines += [link(p) for p in h["files"]] + [""]
    if head("Loss landscape (`snn landscape`)", "landscape"):
        ls = parts["landscape"]
        lines += [f"{ls['dims']}-D, {ls['directions']} directions, range +-{ls['range']}, {ls['resolution']} points a side: "
                  f"centre loss {_fmt(ls['centre_loss'])} (model {_fmt(ls['model_loss'])}), "
                  f"loss from {_fmt(ls['min_loss'])} to {_fmt(ls['max_loss'])}.", ""]
        lines += [link(p) for p in ls["files"]] + [""]
    return "\n".join(lines) + "\n"
