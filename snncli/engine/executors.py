"""Where independent training runs execute: in this process, in local worker processes, or as Ray tasks.

Cross-validation folds and sweep points both go through :func:`run_tasks`. A task that raises
is recorded with its error and traceback; the others still run.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
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
    """One-line error and the tail of the traceback, for reports.

    An expected failure (:class:`~snncli.errors.SnnError`, a refused setting) is its message alone; anything
    else is prefixed with its type, as a bug should be.
    """
    from pydantic import ValidationError

    from ..config import describe_validation_error

    if isinstance(exc, ValidationError):
        line = describe_validation_error(exc)
    elif isinstance(exc, SnnError):
        line = str(exc)
    else:
        line = f"{type(exc).__name__}: {exc}"
    first = next((part.strip() for part in line.splitlines() if part.strip()), type(exc).__name__)
    return {"error": first[:500], "traceback": "".join(traceback.format_exception(exc))[-2000:]}


#: Seconds between a worker's checks that the process that started it still runs.
PARENT_POLL_S = 0.5


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker as soon as ``parent`` is gone, however it died.

    A SIGKILLed parent (the OOM killer) cannot stop its workers, and an orphan would go on writing into
    run folders that a re-run then also writes. On Linux the kernel sends SIGKILL at once
    (``PR_SET_PDEATHSIG``); everywhere, a daemon thread checks every :data:`PARENT_POLL_S` seconds that the
    parent pid is still this process's parent and exits otherwise.
    """
    import threading

    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="snn-parent-watch", daemon=True).start()


def in_process(executor: str, jobs: int, n_tasks: int) -> bool:
    """Whether :func:`run_tasks` runs the tasks one after another in this process (so a task may be
    given what cannot be pickled: progress callbacks)."""
    return executor != "ray" and (jobs == 1 or n_tasks <= 1)


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
    elif in_process(executor, jobs, len(tasks)):
        threads = max(1, (os.cpu_count() or 1) // jobs)
        for key, args in tasks.items():
            try:
                finish(key, fn(*args, threads=threads))
            except Exception as exc:  # reported per task; the caller decides the exit status
                finish(key, exc=exc)
    else:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"), initializer=_die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(fn, *args, threads=threads): key for key, args in tasks.items()}
            for future in as_completed(futures):
                try:
                    finish(futures[future], future.result())
                except Exception as exc:
                    finish(futures[future], exc=exc)
    return results, failures
