"""Dynamic sparse training inside the training loop: activity, the update schedule, logging.

The rules themselves are pure functions in :mod:`snncli.sparsity.dst`; this module decides when
they run, feeds them correlations from spike activity, applies the new masks to the model (and,
with ``--dst-rewired reset``, to the weights and the optimizer), and carries its state through
checkpoints.

Schedule (the seed's): the optimizer steps are counted from 0 and the count is tested before
it is incremented, so with ``--update-every N`` the layers are rewired right after steps
N+1, 2N+1, ... (1-based), counted across epochs.
"""

from __future__ import annotations

from typing import Any

import torch

from ..config import TrainConfig
from ..sparsity import correlation, cosine_similarity, rewire


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
    """Prune-and-grow on the schedule above, on every masked layer of ``model``.

    Args:
        model: a model whose sparse layers are ``MaskedLinear`` with a mask.
        cfg: the run's configuration (``cp``, ``cg``, ``update_every``, ``prune_fraction``,
            ``dst_corr``, ``dst_count``, ``dst_rewired``, ``hebb_window``).
        device: where the buffers live.
    """

    def __init__(self, model: torch.nn.Module, cfg: TrainConfig, device: torch.device):
        self.cfg = cfg
        self.layers = [(i, layer) for i, layer in enumerate(model.layers) if layer.mask is not None]
        if not self.layers:
            raise ValueError(f"--sparsity dynamic: model {cfg.model!r} has no sparse layers")
        self.hebbian = "hebb" in (cfg.cp, cfg.cg)
        self.step = 0
        self.log: list[dict[str, Any]] = []
        self.generator = torch.Generator(device=device).manual_seed(cfg.seed + 1)
        self.buffers: dict[str, ActivityBuffer] = {}
        self.trains: list[torch.Tensor] | None = None  # cosine: the update step's spike trains, input first
        if self.hebbian and cfg.dst_corr == "pearson":
            for i, layer in self.layers:
                self.buffers[f"pre{i}"] = ActivityBuffer(cfg.hebb_window, layer.in_features, device)
                self.buffers[f"post{i}"] = ActivityBuffer(cfg.hebb_window, layer.out_features, device)

    def _due(self, step: int) -> bool:
        """Whether the layers are rewired after optimizer step ``step`` (1-based)."""
        return step > 1 and (step - 1) % self.cfg.update_every == 0

    @property
    def needs_activity(self) -> bool:
        """Whether the coming step's forward pass must record every layer's spikes."""
        if not self.hebbian:
            return False
        return self.cfg.dst_corr == "pearson" or self._due(self.step + 1)

    def activity(self, x_seq: torch.Tensor, hidden: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        """This batch's activity per population, one row per sample (input first, then every layer):
        spike trains ``[B, T, n]`` for ``--dst-corr cosine``, spike counts ``[B, n]`` for ``pearson``.
        Rows, so that data-parallel training can gather the whole batch from every worker in order."""
        if self.cfg.dst_corr == "cosine":
            return [x_seq.flatten(2).transpose(0, 1)] + [h.detach().transpose(0, 1) for h in hidden]
        return spike_counts(x_seq, hidden)

    def observe(self, x_seq: torch.Tensor, hidden: tuple[torch.Tensor, ...] | None) -> None:
        """Record this batch's activity (the encoded input is the first layer's pre-synaptic side)."""
        if self.needs_activity and hidden is not None:
            self.observe_activity(self.activity(x_seq, hidden))

    def observe_activity(self, rows: list[torch.Tensor]) -> None:
        """Record the rows of :meth:`activity` (of the whole batch, gathered from every worker first)."""
        if not self.needs_activity:
            return
        if self.cfg.dst_corr == "cosine":
            self.trains = [r.transpose(0, 1) for r in rows]
            return
        counts = rows
        for i, _ in self.layers:
            self.buffers[f"pre{i}"].add(counts[i])
            self.buffers[f"post{i}"].add(counts[i + 1])

    def _correlation(self, i: int) -> torch.Tensor | None:
        if not self.hebbian:
            return None
        if self.cfg.dst_corr == "cosine":
            return cosine_similarity(self.trains[i], self.trains[i + 1])
        return correlation(self.buffers[f"pre{i}"].view(), self.buffers[f"post{i}"].view())

    @torch.no_grad()
    def after_step(self, optimizer: torch.optim.Optimizer) -> list[dict[str, Any]]:
        """Count one optimizer step; on schedule, rewire every sparse layer. Returns the log records."""
        self.step += 1
        if not self._due(self.step):
            return []
        records = []
        for i, layer in self.layers:
            corr = self._correlation(i)
            before = int(layer.mask.sum())
            change = rewire(layer.weight, layer.mask, self.cfg.prune_fraction, self.cfg.cp, self.cfg.cg,
                            corr, self.generator, count=self.cfg.dst_count)
            layer.mask.copy_(change.mask)
            if self.cfg.dst_rewired == "reset":
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
        self.trains = None
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
