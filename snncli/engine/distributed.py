"""Data-parallel training on torch.distributed: who this process is, how a batch is split, the launcher.

One training step of ``N`` workers (ranks) is the step one process takes on the same global batch:

- every rank draws the same epoch permutation, augmentation and rate-coded spikes (the trainer's per-epoch
  generator, drawn over the whole batch's shape) and reads only its own contiguous share of each batch
  (:func:`shard_bounds`, a ``DistributedSampler``-like split of the index tensor that keeps the global order);
- each share's loss is weighted by ``n_share * N / B``, so that DDP's average of the ranks' gradients is the
  gradient of the global batch mean, also for the uneven last batch;
- rank 0 alone evaluates and writes (checkpoints, metrics, ``result.json``, ``.DONE``); the others hold
  bit-identical weights (DDP's all-reduced gradients, the same optimizer arithmetic).

The same split serves ``--micro-batches K`` in one process (:meth:`World.parts`): the gradients of the parts
are summed before the step. With ``N = 2`` (or ``K = 2``) the two paths compute the same numbers bit for bit
at the same thread count: each part's forward and backward run on the same shapes, and ``(g0 + g1) / 2`` is
exact whichever side adds (IEEE addition commutes; halving is exact). With more parts the all-reduce's
summation order differs from the serial sum by rounding.

``snn train --nproc N`` spawns the workers itself (:func:`spawn`); ``torchrun ... -m snncli train`` starts them
across machines (:func:`from_environment` reads torchrun's ``RANK``/``WORLD_SIZE``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from ..data import ImageSet, iterate_batches
from ..data.folder import FolderImageSet
from ..data.batching import sample_order, to_unit_float
from ..errors import SnnError
from .callbacks import Callbacks


class DistributedError(SnnError, RuntimeError):
    """A data-parallel worker failed or died; the run's last checkpoint is kept."""


def shard_bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """``[lo, hi)`` of ``rank``'s contiguous share of ``n`` items split ``size`` ways (sizes differ by at most 1)."""
    base, extra = divmod(n, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


@dataclass
class World:
    """This process's place among the data-parallel workers (``size == 1``: a plain serial run).

    Attributes:
        rank: this worker's index, 0 is the writer.
        size: number of workers.
        local_rank: index on this machine (its GPU with CUDA).
        ddp: the ``DistributedDataParallel`` wrapper of the model, once :meth:`wrap` ran.
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    ddp: Any = field(default=None, repr=False)

    @property
    def writer(self) -> bool:
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.size > 1

    def place(self, device: torch.device) -> torch.device:
        """The device of this rank: ``cuda:local_rank`` for CUDA (one GPU per worker), ``device`` otherwise."""
        if self.parallel and device.type == "cuda":
            if self.local_rank >= torch.cuda.device_count():
                raise DistributedError(f"--nproc: worker {self.local_rank} has no GPU ({torch.cuda.device_count()} "
                                       "visible); use at most one worker per GPU")
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        return device

    def wrap(self, model: torch.nn.Module, device: torch.device) -> None:
        """Wrap ``model`` in DDP (parallel runs only); the trainer keeps using ``model`` for everything but the
        training forward pass."""
        if self.parallel:
            from torch.nn.parallel import DistributedDataParallel

            ids = [device.index] if device.type == "cuda" else None
            self.ddp = DistributedDataParallel(model, device_ids=ids, find_unused_parameters=_has_unused(model))

    def forward_model(self, model: torch.nn.Module) -> torch.nn.Module:
        return self.ddp if self.ddp is not None else model

    def no_sync(self, skip: bool):
        """DDP's ``no_sync`` for every part of a step but the last (their gradients are summed locally)."""
        return self.ddp.no_sync() if (skip and self.ddp is not None) else contextlib.nullcontext()

    def parts(self, n: int, micro: int) -> list[tuple[int, int, float]]:
        """This rank's parts of a batch of ``n`` samples: ``(lo, hi, loss weight)``.

        The weight ``(hi - lo) * size / n`` makes DDP's mean over ranks of the summed part gradients the
        gradient of the batch mean. A rank left without a sample (a last batch smaller than ``size``) runs the
        batch's first sample with weight 0, since every rank must take part in the all-reduce.
        """
        lo, hi = shard_bounds(n, self.rank, self.size)
        out = []
        for k in range(micro):
            a, b = shard_bounds(hi - lo, k, micro)
            if b > a:
                out.append((lo + a, lo + b, (b - a) * self.size / n))
        return out or [(0, 1, 0.0)]

    def batches(self, data: ImageSet | FolderImageSet, batch_size: int, gen: torch.Generator,
                device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch's shuffled batches, as :func:`~snncli.data.iterate_batches` draws them.

        A parallel rank reads (an image folder: decodes) only its share of each batch; the other ranks' rows
        are zeros (label 0) that cost only the random draws of augmentation and encoding, which are drawn for
        the whole batch so that every rank's share gets the numbers one process would draw.
        """
        if not self.parallel:
            yield from iterate_batches(data, batch_size, shuffle=True, generator=gen, device=device)
            return
        order = sample_order(len(data), True, gen)
        starts = range(0, len(data), batch_size)
        shares = [order[s: s + batch_size][slice(*shard_bounds(len(order[s: s + batch_size]), self.rank, self.size))]
                  for s in starts]
        decoded = None
        if not isinstance(data, ImageSet):  # one loader for the epoch: every full batch's share has the same size
            lo, hi = shard_bounds(batch_size, self.rank, self.size)
            decoded = data.batches_in_order(torch.cat(shares), max(1, hi - lo), device=device)
        for start, share in zip(starts, shares):
            n = min(batch_size, len(data) - start)
            lo, hi = shard_bounds(n, self.rank, self.size)
            x = torch.zeros((n, *data.shape), dtype=torch.float32, device=device)
            y = torch.zeros(n, dtype=torch.long, device=device)
            if hi > lo:
                if decoded is not None:
                    x[lo:hi], y[lo:hi] = next(decoded)
                else:
                    share = share.to(data.x.device)
                    x[lo:hi] = to_unit_float(data.x[share].to(device, non_blocking=True))
                    y[lo:hi] = data.y[share].to(device, non_blocking=True)
            yield x, y

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise sum over ranks (in place; the tensor itself when serial)."""
        if self.parallel:
            import torch.distributed as dist

            dist.all_reduce(values)
        return values

    def gather_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Every rank's ``rows`` (``[n_r, ...]``, sizes may differ) concatenated in rank order."""
        if not self.parallel:
            return rows
        import torch.distributed as dist

        sizes = [torch.zeros((), dtype=torch.long, device=rows.device) for _ in range(self.size)]
        dist.all_gather(sizes, torch.tensor(rows.shape[0], device=rows.device))
        most = int(max(s.item() for s in sizes))
        padded = torch.zeros((most, *rows.shape[1:]), dtype=rows.dtype, device=rows.device)
        padded[: rows.shape[0]] = rows
        out = [torch.empty_like(padded) for _ in range(self.size)]
        dist.all_gather(out, padded)
        return torch.cat([o[: int(s.item())] for o, s in zip(out, sizes)])

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (any picklable value; ``obj`` itself when serial)."""
        if not self.parallel:
            return obj
        import torch.distributed as dist

        box = [obj if self.writer else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]


SERIAL = World()


def _has_unused(model: torch.nn.Module) -> bool:
    # Flex layers compute both branches; the conv and MLP models use every parameter in every step.
    return any(type(m).__name__.startswith("Flex") for m in model.modules())


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def from_environment(device: str = "auto") -> World | None:
    """The :class:`World` of a process torchrun started (``WORLD_SIZE > 1``), joined to its process group
    (NCCL when ``device`` resolves to CUDA, gloo otherwise); ``None`` outside torchrun."""
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if size <= 1 or "RANK" not in os.environ:
        return None
    import torch.distributed as dist

    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        from .device import resolve_device

        dist.init_process_group(backend_for(resolve_device(device)), rank=rank, world_size=size)
    return World(rank=rank, size=size, local_rank=local)


class QueueCallbacks(Callbacks):
    """Rank 0's callbacks: every hook (whatever :class:`Callbacks` declares) becomes a message to the launching
    process, which calls the real one."""

    def __init__(self, queue: Any) -> None:
        super().__init__(**{f.name: _relay(queue, f.name) for f in dataclasses.fields(Callbacks)})


def _relay(queue: Any, hook: str) -> Callable[..., None]:
    return lambda *args: queue.put((hook, args))


def _worker(rank: int, fn: Callable[..., Any], size: int, store: str, queue: Any, parent: int,
            args: tuple) -> None:
    """One spawned rank: join the group, run ``fn(*args, callbacks, world)``, report the result or the error."""
    from .executors import _die_with_parent

    _die_with_parent(parent)
    cfg = args[0]
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # one machine: loopback, whatever the hostname resolves to
    torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // size))
    import torch.distributed as dist

    from .device import resolve_device

    try:
        device = resolve_device(cfg.device)
        dist.init_process_group(backend_for(device), init_method=f"file://{store}", rank=rank, world_size=size)
        world = World(rank=rank, size=size, local_rank=rank)
        result = fn(*args, QueueCallbacks(queue) if rank == 0 else Callbacks(), world)
        if rank == 0:
            queue.put(("result", result))
    except BaseException as exc:  # reported to the launcher, which raises it once for all ranks
        try:
            queue.put(("error", (rank, exc)))
        except Exception:  # an exception that does not pickle: its text
            queue.put(("error", (rank, DistributedError(f"{type(exc).__name__}: {exc}"))))
        sys.exit(1)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def spawn(fn: Callable[..., Any], args: tuple, nproc: int, cb: Callbacks) -> Any:
    """Run ``fn(*args, callbacks, world)`` in ``nproc`` spawned ranks; relay rank 0's callbacks to ``cb``.

    Returns rank 0's result. A rank that raises ends the run with its exception (rank 0's first, then the
    lowest rank's), one that dies (a signal, the OOM killer) with :class:`DistributedError`; the other ranks
    are stopped and the last checkpoint is kept.
    """
    import torch.multiprocessing as tmp

    ctx = tmp.get_context("spawn")
    queue = ctx.SimpleQueue()
    errors: dict[int, BaseException] = {}
    result: list[Any] = []

    def drain() -> None:
        while not queue.empty():
            kind, payload = queue.get()
            if kind == "result":
                result.append(payload)
            elif kind == "error":
                errors.setdefault(payload[0], payload[1])
            else:
                getattr(cb, kind)(*payload)

    with tempfile.TemporaryDirectory(prefix="snn-dist-") as tmpdir:
        store = str(Path(tmpdir) / "store")
        context = tmp.start_processes(_worker, args=(fn, nproc, store, queue, os.getpid(), args), nprocs=nproc,
                                      join=False, start_method="spawn")
        died = None
        try:
            while not context.join(timeout=0.2):
                drain()
        except tmp.ProcessExitedException as exc:
            died = exc
        except tmp.ProcessRaisedException as exc:  # _worker reports its errors itself: a bug there
            died = exc
        finally:
            for p in context.processes:
                if p.is_alive():
                    p.terminate()
            for p in context.processes:
                p.join()
        drain()
    if result and not errors:  # rank 0 delivered the finished run: a rank aborting in teardown (gloo's threads
        return result[0]       # at exit: "terminate called without an active exception") does not undo it
    expected = sorted((rank, exc) for rank, exc in errors.items() if isinstance(exc, SnnError))
    if expected:  # a refused setting or checkpoint, a diverged run: the same on every rank
        raise expected[0][1]
    # A rank killed from outside (a signal other than the SIGTERM that stops the rest) explains the others'
    # errors (their peer vanished mid all-reduce).
    # A rank that reported its error may still abort on its way out (gloo's threads at exit: SIGABRT): its error,
    # not that signal, is what happened.
    killed = [(rank, -p.exitcode) for rank, p in enumerate(context.processes)
              if p.exitcode is not None and p.exitcode < 0 and -p.exitcode != signal.SIGTERM and rank not in errors]
    if killed:
        rank, number = killed[0]
        raise DistributedError(f"--nproc: worker {rank} was killed ({signal.Signals(number).name}); "
                               "the last checkpoint is kept: re-run to resume")
    if errors:
        raise errors[min(errors)]
    if died is not None:
        raise DistributedError(f"--nproc: worker {getattr(died, 'error_index', '?')} died ({died}); "
                               "the last checkpoint is kept: re-run to resume")
    if not result:
        raise DistributedError("--nproc: rank 0 ended without a result")
    return result[0]


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def share_state(world: World, model: torch.nn.Module, optimizer: torch.optim.Optimizer, dst: Any, epoch: int,
                history: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """Rank 0's weights, optimizer state, DST state, epoch count and history on every rank.

    Only rank 0 reads the checkpoint (the others may run on machines without the run folder).
    """
    state = world.broadcast(_to_cpu({
        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        "dst": dst.state_dict() if dst is not None else None, "epoch": epoch, "history": history,
    }) if world.writer else None)
    if not world.writer:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if dst is not None:
            dst.load_state_dict(state["dst"])
    return state["epoch"], state["history"]
