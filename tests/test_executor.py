"""The executor shared by plan jobs and scenario sweeps."""

import time
from pathlib import Path

import pytest

from solvers.executor import ProcessExecutor, make_executor


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
    workers = list(ex._pool._processes.values())
    assert workers
    for _ in range(600):                 # the worker has begun the hour-long call
        if started.exists():
            break
        time.sleep(0.1)
    assert started.exists()
    ex.shutdown(wait=False)
    # Returned while the hour-long call was running: its worker is ended, not waited for,
    # and the call never completes with a result.
    for proc in workers:
        proc.join(timeout=60)
        assert proc.exitcode is not None, "a worker still runs the abandoned call"
    assert not fut.done() or fut.cancelled() or fut.exception() is not None


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown executor kind"):
        make_executor("threads")
