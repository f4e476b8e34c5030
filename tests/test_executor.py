"""The executor shared by plan jobs and scenario sweeps."""

import sys
import time
from pathlib import Path

import pytest

from solvers.executor import ProcessExecutor, make_executor
from tests.live import still_running


def _slow_square(x: int) -> int:
    time.sleep(0.05 * (3 - x))
    return x * x


@pytest.mark.parametrize("kind", ["serial", "processes"])
def test_map_keeps_input_order_and_reports_progress(kind):
    seen = []
    with make_executor(kind, workers=2) as ex:
        assert ex.map(_slow_square, [0, 1, 2], progress=lambda d, n: seen.append((d, n))) == [
            0, 1, 4]
    assert seen[-1] == (3, 3) and len(seen) == 3


def test_errors_reach_the_caller():
    with make_executor("serial") as ex, pytest.raises(ZeroDivisionError):
        ex.submit(lambda: 1 / 0).result()


def _say_then_sleep(path: str, seconds: float) -> None:
    Path(path).write_text("started")
    time.sleep(seconds)


def test_shutdown_without_waiting_ends_running_calls(tmp_path):
    ex = make_executor("processes", workers=1)
    started = tmp_path / "started"
    fut = ex.submit(_say_then_sleep, str(started), 3600)
    assert isinstance(ex, ProcessExecutor)
    import psutil

    workers = [psutil.Process(p.pid) for p in ex._pool._processes.values()]
    assert workers
    for _ in range(600):                 # the worker has begun the hour-long call
        if started.exists():
            break
        time.sleep(0.1)
    assert started.exists()
    ex.shutdown(wait=False)
    # Returned while the hour-long call was running: its worker is ended, not waited for,
    # and the call never completes with a result. (Asked of the system, not of the pool's
    # process objects: the pool's own thread may read a worker's exit status first, and a
    # second reader then sees no status at all.)
    assert still_running(workers, 60) == [], "a worker still runs the abandoned call"
    assert not fut.done() or fut.cancelled() or fut.exception() is not None


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown executor kind"):
        make_executor("threads")


_ORPHAN = """
import multiprocessing as mp, os, sys, time
from solvers.executor import exit_with_parent, make_executor

def busy(parent, kill_signal):
    exit_with_parent(parent, kill_signal=kill_signal)
    sum(range(10 ** 11))        # one C call that holds the interpreter for minutes

def part(_):
    while True:                 # building a model: Python code, the watching thread runs too
        pass

if __name__ == "__main__":
    how = sys.argv[1]
    if how == "pool":            # a solve by parts: the executor's worker processes
        ex = make_executor("processes", workers=2)
        futures = [ex.submit(part, i) for i in range(2)]
    else:
        ctx = mp.get_context("spawn")
        ctx.Process(target=busy, args=(os.getpid(), how == "signal"), daemon=False).start()
    time.sleep(3600)
"""


def _orphans_after_parent_killed(tmp_path: Path, how: str) -> list[int]:
    """Start a parent whose worker processes are busy in one long C call, kill the parent
    with SIGKILL once they run, and list the workers still running a second later."""
    import os
    import signal
    import subprocess
    import sys

    import psutil

    script = tmp_path / "parent.py"
    script.write_text(_ORPHAN)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    parent = subprocess.Popen([sys.executable, str(script), how], cwd=root, env=env,
                              start_new_session=True)
    try:
        me = psutil.Process(parent.pid)
        want = 2 if how == "pool" else 1
        deadline = time.monotonic() + 60
        while True:             # the workers are busy: each uses the CPU
            kids = [k for k in me.children() if "resource_tracker" not in " ".join(k.cmdline())]
            if len(kids) >= want and all(k.cpu_times().user > 0.5 for k in kids):
                break
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        return [pid for pid, _ in still_running(kids, 1.0)]
    finally:
        try:
            os.killpg(parent.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.slow
def test_a_worker_busy_in_the_solver_dies_with_its_killed_parent(tmp_path):
    """A worker started by a long-lived thread asks the kernel for SIGKILL when that
    thread's process dies: gone within a second even while one C call holds the
    interpreter (its watching thread cannot run then)."""
    assert _orphans_after_parent_killed(tmp_path, "signal") == []


@pytest.mark.slow
def test_the_executors_workers_die_with_their_killed_parent(tmp_path):
    """The worker processes of a solve by parts watch their parent: gone within a second
    of it being killed while they build or search (CP-SAT lets the watching thread run)."""
    assert _orphans_after_parent_killed(tmp_path, "pool") == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_a_worker_hands_the_memory_a_call_freed_back_to_the_system():
    # a solver's model lives in many small allocations; freed, they stay with the process
    # while a later one sits above them, until the C library is asked to give them back
    import ctypes

    import psutil

    from solvers.executor import release_memory

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    me = psutil.Process()
    blocks = []
    for _ in range(150_000):                    # 150 MB in blocks of 1 kB, each touched
        ptr = libc.malloc(1000)
        ctypes.memset(ptr, 1, 1000)
        blocks.append(ptr)
    for ptr in blocks[:-1]:                     # the last one stays, above the others
        libc.free(ptr)
    held = me.memory_info().rss
    assert release_memory()
    assert held - me.memory_info().rss > 100 * 2**20
    libc.free(blocks[-1])


def test_a_worker_call_returns_its_result_and_raises_its_error():
    from solvers.executor import released

    assert released(pow, 2, 10) == 1024
    with pytest.raises(ZeroDivisionError):
        released(divmod, 1, 0)
