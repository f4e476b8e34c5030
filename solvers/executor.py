"""One way to run solves elsewhere: local worker processes, a local Dask cluster, or an
existing Dask cluster by address. The service's plan jobs and the scenario sweeps share it.

Examples
--------
>>> with make_executor("processes", workers=2) as ex:          # doctest: +SKIP
...     fut = ex.submit(pow, 2, 10)
...     fut.result()
1024
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

__all__ = ["Executor", "FutureLike", "exit_with_parent", "make_executor"]

_PR_SET_PDEATHSIG = 1

#: How often a worker process looks whether its parent is still there (seconds).
WATCH_SECONDS = 0.1


def exit_with_parent(parent: int, *, kill_signal: bool = False) -> None:
    """End this process (exit code 70) as soon as process ``parent`` is gone, however it
    went (SIGKILL included): a daemon thread looks every ``WATCH_SECONDS`` whether this
    process was handed to another parent. Called first thing in every worker process the
    project starts.

    The thread needs the interpreter, which a long call into a C library (loading the solver
    while warming up) can hold for a second or more; with ``kill_signal`` the kernel also
    sends this process SIGKILL when the parent's *thread* that started it ends (Linux
    ``PR_SET_PDEATHSIG``): only for a process started by a thread that lives as long as its
    workers should (the service's worker pool thread), as the signal follows that thread."""
    if kill_signal and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl here: the thread alone watches
            pass
    if os.getppid() != parent:      # gone before the signal was asked for
        os._exit(70)

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(70)
            time.sleep(WATCH_SECONDS)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class FutureLike(Protocol):
    def result(self, timeout: float | None = None) -> Any: ...
    def done(self) -> bool: ...
    def cancel(self) -> bool: ...


class Executor:
    """Submit picklable functions; ``map`` keeps input order and reports progress as
    ``progress(done, total)``. Use as a context manager or call ``shutdown``."""

    kind: str = "base"

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> FutureLike:
        raise NotImplementedError

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any],
            progress: Callable[[int, int], None] | None = None) -> list[Any]:
        futures = [self.submit(fn, item) for item in items]
        return self.gather(futures, progress)

    def gather(self, futures: list[FutureLike],
               progress: Callable[[int, int], None] | None = None) -> list[Any]:
        results: list[Any] = [None] * len(futures)
        pending = dict(enumerate(futures))
        done = 0
        while pending:
            for i, fut in list(pending.items()):
                if fut.done():
                    results[i] = fut.result()
                    del pending[i]
                    done += 1
                    if progress is not None:
                        progress(done, len(futures))
            if pending:
                _wait_any(list(pending.values()))
        return results

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work. ``wait=False`` abandons running calls at once (their futures
        never complete); the default waits for them."""
        raise NotImplementedError

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def _wait_any(futures: list[FutureLike]) -> None:
    local = [f for f in futures if isinstance(f, cf.Future)]
    if len(local) == len(futures):
        cf.wait(local, timeout=1.0, return_when=cf.FIRST_COMPLETED)
        return
    try:
        from distributed import wait
        wait(futures, timeout=1.0, return_when="FIRST_COMPLETED")
    except Exception:  # noqa: BLE001 - a timeout just means: look again
        pass


def released(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a worker, and then the memory it freed handed back to the
    system: a solver's model is freed after its call, but the C library keeps the pages for
    the process, so a worker that solved a large part held that much through every later call
    (a season's two workers held 600 MB each between their parts, 1.1 GB each in the repair)."""
    try:
        return fn(*args, **kwargs)
    finally:
        release_memory()


def release_memory() -> bool:
    """Collect Python's garbage and ask the C library to give freed heap back to the system
    (``malloc_trim``, glibc); whether it could be asked."""
    import gc

    gc.collect()
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):       # not glibc (macOS, musl): nothing to ask
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True


class ProcessExecutor(Executor):
    """Local worker processes (``spawn``, so that a solver thread never forks)."""

    kind = "processes"

    def __init__(self, workers: int | None = None):
        self.workers = workers or max(1, (os.cpu_count() or 2))
        # each worker ends with this process, even when it is killed (no orphan solves)
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                            initializer=exit_with_parent,
                                            initargs=(os.getpid(),))

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> cf.Future[Any]:
        return self._pool.submit(released, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True) -> None:
        if wait:
            self._pool.shutdown(wait=True, cancel_futures=True)
            return
        # ProcessPoolExecutor cannot interrupt a running call; end its workers instead
        # (SIGKILL: the pool is being abandoned, and SIGTERM was seen not to end a worker that
        # was still starting up). The pool first drops its cancelled calls (its manager thread
        # does so on shutdown): a call cancelled and still listed when the pool breaks makes
        # that thread fail with InvalidStateError, printed as a traceback.
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        manager = getattr(self._pool, "_executor_manager_thread", None)
        self._pool.shutdown(wait=False, cancel_futures=True)
        # (a pool that was never given a call has no manager thread to drop them: the flag
        # then stays up, and waiting on it would only spend the 0.2 s)
        give_up = time.monotonic() + 0.2
        while manager is not None and manager.is_alive() and time.monotonic() < give_up \
                and getattr(self._pool, "_cancel_pending_futures", False):
            time.sleep(0.005)
        for proc in procs:
            proc.kill()


class DaskExecutor(Executor):
    """A Dask cluster: a new local one (``address=None``) or an existing one by address."""

    kind = "dask"

    def __init__(self, address: str | None = None, workers: int | None = None):
        from distributed import Client, LocalCluster

        self._cluster = None
        if address is None:
            self._cluster = LocalCluster(n_workers=workers or max(1, os.cpu_count() or 2),
                                         threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)
        self.address = address

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> FutureLike:
        return self._client.submit(fn, *args, pure=False, **kwargs)

    def shutdown(self, wait: bool = True) -> None:
        if not wait:
            self._client.cancel(list(self._client.futures.values()), force=True)
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str = "processes", *, workers: int | None = None,
                  address: str | None = None) -> Executor:
    """``'processes'`` (local worker processes), ``'dask'`` (a new local Dask cluster, or the
    cluster at ``address``), or ``'serial'`` (in this process, for tests and comparisons)."""
    if kind == "processes":
        return ProcessExecutor(workers)
    if kind == "dask":
        return DaskExecutor(address, workers)
    if kind == "serial":
        return SerialExecutor()
    raise ValueError(f"unknown executor kind {kind!r} (processes, dask, serial)")


class SerialExecutor(Executor):
    """Runs each call at once in this process; the reference a parallel run is compared to."""

    kind = "serial"

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True) -> None:
        return None
