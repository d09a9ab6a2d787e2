"""Where independent training runs execute: in this process, in local worker processes, or as Ray tasks.

Cross-validation folds and sweep points both go through :func:`run_tasks`. A task that raises
is recorded with its error and traceback; the others still run.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Hashable

from ..errors import SnnError

EXECUTORS = ("local", "ray")


class ExecutorUnavailableError(SnnError, RuntimeError):
    """The requested executor cannot run here (e.g. Ray is not installed)."""


def require_ray():
    """The ``ray`` module, or :class:`ExecutorUnavailableError` with the install hint."""
    try:
        import ray
    except ImportError:
        raise ExecutorUnavailableError("--executor ray needs Ray: pip install 'snncli[ray]'") from None
    return ray


def describe_failure(exc: BaseException) -> dict[str, str]:
    """One-line error and the tail of the traceback, for reports."""
    return {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
            "traceback": "".join(traceback.format_exception(exc))[-2000:]}


Done = Callable[[Hashable, "dict[str, Any] | None", "dict[str, str] | None"], None]


def run_tasks(
    fn: Callable[..., dict[str, Any]],
    tasks: dict[Hashable, tuple],
    *,
    jobs: int = 1,
    executor: str = "local",
    ray_address: str | None = None,
    cpus_per_task: int = 1,
    on_done: Done = lambda key, result, failure: None,
) -> tuple[dict[Hashable, dict[str, Any]], dict[Hashable, dict[str, str]]]:
    """Run ``fn(*args, threads=...)`` for every ``key: args`` of ``tasks``.

    ``jobs == 1``: one after another in this process; ``jobs > 1``: that many spawned processes.
    Both pass ``threads=cpu_count // jobs``, which ``fn`` uses unless its config names a thread
    count: results depend on the thread count (float summation order), never on where a task ran.
    ``executor="ray"``: Ray tasks reserving ``cpus_per_task`` CPUs each, on the cluster at
    ``ray_address`` or on a local instance started (and stopped) here. ``fn`` must be importable
    by module path (workers import it), and ``args`` picklable.

    Returns:
        ``(results, failures)`` keyed like ``tasks``; ``on_done(key, result, failure)`` is called
        as each task ends.

    Raises:
        ExecutorUnavailableError: Ray was asked for and is not installed.
    """
    results: dict[Hashable, dict[str, Any]] = {}
    failures: dict[Hashable, dict[str, str]] = {}

    def finish(key, result=None, exc=None):
        if exc is None:
            results[key] = result
            on_done(key, result, None)
        else:
            failures[key] = describe_failure(exc)
            on_done(key, None, failures[key])

    if executor == "ray":
        ray = require_ray()
        started = not ray.is_initialized()
        if started:
            ray.init(address=ray_address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            remote = ray.remote(num_cpus=cpus_per_task, max_retries=0)(fn)
            refs = {remote.remote(*args, threads=cpus_per_task): key for key, args in tasks.items()}
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                try:
                    finish(refs[done[0]], ray.get(done[0]))
                except Exception as exc:  # a RayTaskError wraps the task's own exception
                    finish(refs[done[0]], exc=getattr(exc, "cause", None) or exc)
        finally:
            if started:
                ray.shutdown()
    elif jobs == 1 or len(tasks) <= 1:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        for key, args in tasks.items():
            try:
                finish(key, fn(*args, threads=threads))
            except Exception as exc:  # reported per task; the caller decides the exit status
                finish(key, exc=exc)
    else:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(fn, *args, threads=threads): key for key, args in tasks.items()}
            for future in as_completed(futures):
                try:
                    finish(futures[future], future.result())
                except Exception as exc:
                    finish(futures[future], exc=exc)
    return results, failures
