"""A training step captured once and replayed: CUDA graphs for the GPU path.

At the sizes of the seeds' MLPs a GPU step is a few dozen short kernels (one matmul per layer
over T*B rows, one fused LIF launch per layer and direction, the optimizer's); replaying them as
one CUDA graph removes the per-kernel launch cost and every host round trip. Everything the step
touches must then live at fixed addresses: the batch is copied into static input tensors, the
optimizer must be ``capturable`` (Adam(..., capturable=True)), and the step must not read values
on the host (the engine's GPU path does not: its LIF kernels take beta and threshold from device
memory and the event-driven products are CPU-only).

Off CUDA, or when capture fails, :func:`graphed_step` returns the eager step unchanged and says
why, so callers need no second code path.
"""

from __future__ import annotations

from typing import Callable

import torch


def graphed_step(
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    warmup: int = 3,
) -> tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], str]:
    """Capture ``step(x, y) -> loss`` (forward, backward and optimizer step) in a CUDA graph.

    Args:
        step: one training step on a batch; returns the loss tensor (not ``.item()``).
        x: an example batch of inputs, on the device; its shape and dtype are fixed from now on.
        y: an example batch of targets.
        warmup: eager steps on a side stream before capture (lets the optimizer create its state
            and the allocator settle, as capture requires).

    Returns:
        ``(run, how)``: ``run(x, y)`` copies the batch into the captured buffers, replays the
        graph and returns the (static) loss tensor; ``how`` says ``"cuda graph"`` or why the eager
        step is used instead.
    """
    if x.device.type != "cuda":
        return step, "eager (not a CUDA device)"
    static_x, static_y = x.clone(), y.clone()
    try:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(warmup):
                step(static_x, static_y)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_loss = step(static_x, static_y)
    except RuntimeError as exc:  # an op that cannot be captured: stay eager, and say so
        torch.cuda.synchronize()
        return step, f"eager (capture failed: {str(exc).splitlines()[0]})"

    def run(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        static_x.copy_(xb, non_blocking=True)
        static_y.copy_(yb, non_blocking=True)
        graph.replay()
        return static_loss

    return run, "cuda graph"
