"""Dynamic sparse training inside the training loop: activity buffers, the update schedule, logging.

The rules themselves are pure functions in :mod:`snncli.sparsity.dst`; this module decides when
they run, feeds them correlations from recent spike activity, applies the new masks to the
model and the optimizer, and carries its state through checkpoints.
"""

from __future__ import annotations

from typing import Any

import torch

from ..config import TrainConfig
from ..sparsity import correlation, rewire


class ActivityBuffer:
    """The last ``window`` samples' spike counts of one population, as a ring buffer ``[window, n]``."""

    def __init__(self, window: int, n: int, device: torch.device):
        self.data = torch.zeros(window, n, device=device)
        self.filled = 0
        self.pos = 0

    def add(self, counts: torch.Tensor) -> None:
        counts = counts.detach().float()[-self.data.shape[0]:]
        rows = (self.pos + torch.arange(counts.shape[0], device=self.data.device)) % self.data.shape[0]
        self.data[rows] = counts
        self.pos = (self.pos + counts.shape[0]) % self.data.shape[0]
        self.filled = min(self.filled + counts.shape[0], self.data.shape[0])

    def view(self) -> torch.Tensor:
        return self.data[: self.filled]


def spike_counts(x_seq: torch.Tensor, hidden: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
    """Per-sample spike counts ``[B, n]``: the input's, then every layer's (summed over the T steps)."""
    return [x_seq.flatten(2).sum(0)] + [h.float().sum(0) for h in hidden]


class DynamicSparsity:
    """Prune-and-grow every ``update_every`` optimizer steps on every masked layer of ``model``.

    Args:
        model: a model whose sparse layers are ``MaskedLinear`` with a mask.
        cfg: the run's configuration (``cp``, ``cg``, ``update_every``, ``prune_fraction``, ``hebb_window``).
        device: where the buffers live.
    """

    def __init__(self, model: torch.nn.Module, cfg: TrainConfig, device: torch.device):
        self.cfg = cfg
        self.layers = [(i, layer) for i, layer in enumerate(model.layers) if layer.mask is not None]
        if not self.layers:
            raise ValueError(f"--sparsity dynamic: model {cfg.model!r} has no sparse layers")
        self.needs_activity = "hebb" in (cfg.cp, cfg.cg)
        self.step = 0
        self.log: list[dict[str, Any]] = []
        self.generator = torch.Generator(device=device).manual_seed(cfg.seed + 1)
        self.buffers: dict[str, ActivityBuffer] = {}
        if self.needs_activity:
            for i, layer in self.layers:
                self.buffers[f"pre{i}"] = ActivityBuffer(cfg.hebb_window, layer.in_features, device)
                self.buffers[f"post{i}"] = ActivityBuffer(cfg.hebb_window, layer.out_features, device)

    def observe(self, x_seq: torch.Tensor, hidden: tuple[torch.Tensor, ...]) -> None:
        """Record this batch's spike counts (input counts for the first layer's pre-synaptic side)."""
        if self.needs_activity:
            self.observe_counts(spike_counts(x_seq, hidden))

    def observe_counts(self, counts: list[torch.Tensor]) -> None:
        """Record per-sample spike counts ``[B, n]`` per population (:func:`spike_counts`; data-parallel
        training gathers them from every worker first)."""
        if not self.needs_activity:
            return
        for i, _ in self.layers:
            self.buffers[f"pre{i}"].add(counts[i])
            self.buffers[f"post{i}"].add(counts[i + 1])

    @torch.no_grad()
    def after_step(self, optimizer: torch.optim.Optimizer) -> list[dict[str, Any]]:
        """Count one optimizer step; on schedule, rewire every sparse layer. Returns the log records."""
        self.step += 1
        if self.step % self.cfg.update_every:
            return []
        records = []
        for i, layer in self.layers:
            corr = None
            if self.needs_activity:
                corr = correlation(self.buffers[f"pre{i}"].view(), self.buffers[f"post{i}"].view())
            before = int(layer.mask.sum())
            change = rewire(layer.weight, layer.mask, self.cfg.prune_fraction, self.cfg.cp, self.cfg.cg,
                            corr, self.generator)
            layer.mask.copy_(change.mask)
            touched = torch.cat([change.pruned, change.grown])
            layer.weight.view(-1)[touched] = 0.0  # pruned stay zero; grown start at zero
            _reset_optimizer_state(optimizer, layer.weight, touched)
            after = int(layer.mask.sum())
            assert after == before, f"layer {i}: {before} connections became {after}"
            kept = layer.mask.bool().flatten()
            record = {
                "step": self.step, "layer": i + 1, "pruned": int(change.pruned.numel()),
                "grown": int(change.grown.numel()), "connections": after,
                "sparsity": 1.0 - after / layer.mask.numel(),
            }
            if corr is not None:  # strength of coupling, |C|, as the Hebbian rules rank it
                flat = corr.abs().flatten()
                record["corr_kept"] = float(flat[kept].mean())
                record["corr_grown"] = float(flat[change.grown].mean()) if change.grown.numel() else None
            records.append(record)
        self.log.extend(records)
        return records

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step, "log": self.log, "generator": self.generator.get_state(),
            "buffers": {k: {"data": b.data, "filled": b.filled, "pos": b.pos} for k, b in self.buffers.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step, self.log = int(state["step"]), list(state["log"])
        self.generator.set_state(state["generator"].cpu() if hasattr(state["generator"], "cpu") else state["generator"])
        for k, b in state["buffers"].items():
            self.buffers[k].data.copy_(b["data"])
            self.buffers[k].filled, self.buffers[k].pos = int(b["filled"]), int(b["pos"])


def _reset_optimizer_state(optimizer: torch.optim.Optimizer, param: torch.Tensor, flat_idx: torch.Tensor) -> None:
    """Zero the optimizer's per-weight state (Adam moments, SGD momentum) at the rewired weights."""
    state = optimizer.state.get(param, {})
    for value in state.values():
        if torch.is_tensor(value) and value.shape == param.shape:
            value.view(-1)[flat_idx] = 0.0
