"""The executor shared by plan jobs and scenario sweeps."""

import time

import pytest

from solvers.executor import make_executor


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


def test_shutdown_without_waiting_does_not_wait_for_running_calls():
    ex = make_executor("processes", workers=1)
    ex.submit(time.sleep, 30)
    time.sleep(1.0)             # let the worker start the call
    t0 = time.perf_counter()
    ex.shutdown(wait=False)
    assert time.perf_counter() - t0 < 10


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown executor kind"):
        make_executor("threads")
