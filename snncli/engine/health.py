"""Health checks of a training run: silent or saturated layers, a loss at ln C, accuracy at chance.

A spiking network whose layer never fires passes nothing to the layers above it: their gradients
vanish, the output scores are equal, the cross-entropy sits at ln C (C classes) and the accuracy at
1/C, and yet every epoch "finishes". A layer that fires at every step carries no information either.
:class:`HealthMonitor` reads each epoch's metrics row (per-layer firing rates ``rate_l1..``, the loss
and accuracy), reports each new finding once with its likely cause, and gives the last epoch's
findings for ``result.json`` (``health``), so that a dead run never reads as a success in a summary,
a cross-validation table or a sweep table. Non-finite numbers are not its business: they stop the run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

#: A layer firing less than this (spikes per neuron per time step) is silent: fewer than one spike
#: per 10,000 neuron-steps, too few to carry a gradient.
SILENT_RATE = 1e-4
#: A layer firing more than this fires at (nearly) every step: its spikes no longer vary with the input.
SATURATED_RATE = 0.95
#: Loss within this share of ln C is "at ln C": the class scores are (nearly) equal.
LOSS_TOLERANCE = 0.01
#: Accuracy below this multiple of chance (1/C) is "near chance".
CHANCE_FACTOR = 1.5


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a run.

    Attributes:
        check: ``silent_layer``, ``saturated_layer``, ``loss_at_chance`` or ``accuracy_at_chance``.
        layers: the layers it concerns (1 = the first spiking layer, the last = output), ``None`` for
            the loss and accuracy checks.
        value: the highest silent or lowest saturated firing rate (spikes per neuron per step), the
            loss or the accuracy.
        message: what it means and its likely cause, one line.
    """

    check: str
    layers: list[int] | None
    value: float
    message: str


def _layer_rates(row: dict[str, Any]) -> list[float]:
    keys = sorted((k for k in row if k.startswith("rate_l") and k[6:].isdigit()), key=lambda k: int(k[6:]))
    return [float(row[k]) for k in keys]


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


class HealthMonitor:
    """Checks the metrics rows of one run; every finding is reported once, when it first appears.

    Args:
        num_classes: C, for ln C and chance accuracy.
        settings: the run's settings (a :class:`~snncli.config.TrainConfig` or its dict), to name the
            likely causes: ``loss`` (with ``membrane`` the output layer's spikes are not read, so they
            are not checked), ``threshold``, ``enc_scale``, ``T``, ``enc``, ``hidden_dim``, ``lr``,
            ``sparsity_mode``, ``cp``, ``cg``.
    """

    def __init__(self, num_classes: int, settings: Any) -> None:
        self.num_classes = num_classes
        self.s = settings if isinstance(settings, dict) else settings.model_dump()
        self.reported: set[tuple[str, str]] = set()

    # -- the checks ---------------------------------------------------------------------------------
    def check(self, row: dict[str, Any]) -> list[Finding]:
        """The findings of one epoch's metrics row (train rates; test loss and accuracy when present)."""
        findings = self._layers(_layer_rates(row))
        loss = row.get("test_loss", row.get("train_loss"))
        acc = row.get("test_acc", row.get("train_acc"))
        ln_c = math.log(self.num_classes)
        if _finite(loss) and abs(loss - ln_c) <= LOSS_TOLERANCE * ln_c and _finite(acc) and self._near_chance(acc):
            silent = [f.layers[0] for f in findings if f.check == "silent_layer"]
            cause = (f"layer {silent[0]} is silent (above)" if silent else
                     f"a learning rate too high or too low (--lr {self.s.get('lr')}), or too few training steps")
            findings.append(Finding("loss_at_chance", None, float(loss), (
                f"loss {loss:.4f} = ln {self.num_classes}: the network gives every class the same score and "
                f"learns nothing; likely cause: {cause}")))
        return findings

    def _layers(self, rates: list[float]) -> list[Finding]:
        """One finding per kind: the silent layers (the first one is the cause, the ones above follow it),
        the saturated layers."""
        n = len(rates)
        read_output = self.s.get("loss") != "membrane"  # a membrane readout does not read the output spikes
        checked = [(i, r) for i, r in enumerate(rates, start=1) if i < n or read_output]
        silent = [(i, r) for i, r in checked if r < SILENT_RATE]
        saturated = [(i, r) for i, r in checked if r > SATURATED_RATE]
        findings = []
        if silent:
            first = silent[0][0]
            most = max(r for _, r in silent)
            amount = "no spikes at all" if most == 0 else f"at most {most:.2g} spikes per neuron per step"
            findings.append(Finding("silent_layer", [i for i, _ in silent], most, (
                f"{_names(silent, n)} silent ({amount}): "
                f"{'no spikes reach the loss' if first == n else 'nothing passes layer ' + str(first)}, so the "
                f"network cannot learn; likely cause: {self._too_weak(first)}")))
        if saturated:
            findings.append(Finding("saturated_layer", [i for i, _ in saturated], min(r for _, r in saturated), (
                f"{_names(saturated, n)} firing at nearly every step (rate ≥ {min(r for _, r in saturated):.3f}): "
                f"the spikes no longer depend on the input; likely cause: inputs far above the threshold "
                f"(--threshold {self.s.get('threshold')}, --enc-scale {self.s.get('enc_scale')}) or weights grown "
                f"by a large learning rate (--lr {self.s.get('lr')})")))
        return findings

    def _too_weak(self, layer: int) -> str:
        s = self.s
        parts = [f"inputs too weak to reach the firing threshold (--threshold {s.get('threshold')}"]
        if layer == 1:
            parts.append(f"--enc {s.get('enc')} --enc-scale {s.get('enc_scale')}")
        parts.append(f"-T {s.get('T')}")
        if s.get("hidden_dim") is not None:
            parts.append(f"--hidden-dim {s.get('hidden_dim')}")
        text = ", ".join(parts) + "); try a lower --threshold, a larger --enc-scale, more -T or wider layers"
        if s.get("sparsity_mode") == "dynamic" and "hebb" in (s.get("cp"), s.get("cg")):
            text += "; Hebbian DST rewires on all-zero spike correlations here"
        return text

    def _near_chance(self, acc: float) -> bool:
        return acc < CHANCE_FACTOR / self.num_classes

    # -- reporting ----------------------------------------------------------------------------------
    def observe(self, row: dict[str, Any]) -> list[str]:
        """Warnings for the findings of ``row`` not reported before (one line each, prefixed by the epoch)."""
        new = []
        for f in self.check(row):
            key = _key(f)
            if key not in self.reported:
                self.reported.add(key)
                new.append(f"epoch {row.get('epoch')}: {f.message}")
        return new

    def finish(self, last: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """``result.json``'s ``health`` from the last epoch's row, and the warnings not reported before.

        The health is the last epoch's findings and the test accuracy against chance:
        ``{"ok": bool, "findings": [{check, layer, value, message}, ...]}``.
        """
        findings = self.check(last)
        acc = last.get("test_acc")
        if _finite(acc) and self._near_chance(acc):
            chance = 1 / self.num_classes
            why = ("see the findings above" if findings else
                   "too little training (more --epochs, no --max-batches), or a learning rate that does not suit "
                   f"the model (--lr {self.s.get('lr')})")
            findings.append(Finding("accuracy_at_chance", None, float(acc), (
                f"test accuracy {acc:.4f} is near chance (1/{self.num_classes} = {chance:.4f}); likely cause: {why}")))
        new = [f.message for f in findings if _key(f) not in self.reported]
        self.reported.update(_key(f) for f in findings)
        return {"ok": not findings, "findings": [asdict(f) for f in findings]}, new


def _key(f: Finding) -> tuple[str, str]:
    return f.check, str(f.layers)


def _names(layers: list[tuple[int, float]], n: int) -> str:
    """``layers 1, 2 and the output layer are`` / ``layer 2 of 3 is`` / ``the output layer is``."""
    names = [("the output layer" if i == n else str(i)) for i, _ in layers]
    if len(names) == 1:
        return "the output layer is" if names[0] == "the output layer" else f"layer {names[0]} of {n} is"
    return f"layers {', '.join(names[:-1])} and {names[-1]} are"


def health_label(health: dict[str, Any] | None) -> str:
    """A table cell for a run's ``health``: ``ok``, ``?`` (not recorded), or the findings in short
    (``silent l1,l2; loss at ln C``)."""
    if not health:
        return "?"
    if health.get("ok"):
        return "ok"
    parts = []
    for f in health.get("findings", []):
        name = {"silent_layer": "silent", "saturated_layer": "saturated", "loss_at_chance": "loss at ln C",
                "accuracy_at_chance": "at chance"}.get(f["check"], f["check"])
        layers = f.get("layers")
        parts.append(f"{name} {','.join(f'l{i}' for i in layers)}" if layers else name)
    return "; ".join(parts)

