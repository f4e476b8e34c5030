"""Tables and progress on the terminal, with East-Asian widths (rich).

A DataFrame printed by pandas misaligns Japanese text (a kanji is two columns wide); rich
measures every cell by its display width and wraps long ones inside their column.

Examples
--------
>>> print_table(pd.DataFrame({"自治体": ["上島町"], "件数": [3]}))   # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import pandas as pd

__all__ = ["ProgressBar", "SolveProgress", "print_table"]


def _console(stream: IO[str] | None = None, width: int | None = None) -> Any:
    from rich.console import Console

    out = stream if stream is not None else sys.stdout
    if width is None:
        # A pipe or a file has no width: wide enough for a table, no terminal codes.
        width = shutil.get_terminal_size((160, 24)).columns if out.isatty() else 160
    return Console(file=out, width=width, highlight=False, soft_wrap=False,
                   emoji=False, markup=False)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def print_table(df: pd.DataFrame, *, title: str | None = None, empty: str = "(none)",
                stream: IO[str] | None = None, width: int | None = None) -> None:
    """Print ``df`` (its index as the first columns) as an aligned table."""
    from rich import box
    from rich.table import Table

    console = _console(stream, width)
    if not len(df):
        console.print(empty)
        return
    flat = df.reset_index() if any(n is not None for n in df.index.names) else df
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col in flat.columns:
        numeric = pd.api.types.is_numeric_dtype(flat[col])
        table.add_column(str(col), justify="right" if numeric else "left", overflow="fold")
    for row in flat.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


class ProgressBar:
    """``progress(done, total)`` as a rich progress bar on stderr (or ``stream``): label, bar,
    count, elapsed and remaining time. A notebook or a pipe gets a plain line per step."""

    def __init__(self, label: str = "runs", stream: IO[str] | None = None, width: int = 30):
        self.label, self.stream, self.width = label, stream, width
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        if self._progress is None:
            console = _console(self.stream if self.stream is not None else sys.stderr, 100)
            self._progress = Progress(TextColumn(self.label), BarColumn(bar_width=self.width),
                                      MofNCompleteColumn(), TimeElapsedColumn(),
                                      TimeRemainingColumn(), console=console,
                                      auto_refresh=False)
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=total)
        self._progress.update(self._task, completed=done, total=total)
        self._progress.refresh()
        if done >= total:
            self._progress.stop()
            self._progress = None


class SolveProgress:
    """A wait on the planner, shown while it lasts: what is being done, a bar over the time
    limit, the time spent and the time left (rich, on a terminal); each better plan found
    updates the line (``format_line(progress) -> str``). Where nothing can redraw a line (a
    pipe, a file, a test), each better plan is one plain line instead.

    >>> with SolveProgress("planning 40 requests", 30, line) as show:     # doctest: +SKIP
    ...     plan = solve(problem, SolveOptions(progress=show))
    """

    def __init__(self, label: str, limit: float, format_line: Callable[[Any], str],
                 stream: IO[str] | None = None):
        self.label, self.limit, self.format_line = label, limit, format_line
        self.stream = stream if stream is not None else sys.stderr
        self._progress: Any = None
        self._task: Any = None
        self._done = threading.Event()
        self._t0 = time.monotonic()

    def __enter__(self) -> SolveProgress:
        self._t0 = time.monotonic()
        if getattr(self.stream, "isatty", lambda: False)():
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=20),
                                      TimeElapsedColumn(), TimeRemainingColumn(),
                                      console=_console(self.stream, 120), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.limit)
            threading.Thread(target=self._tick, name="dxshare-progress", daemon=True).start()
        return self

    def _tick(self) -> None:
        while not self._done.wait(0.5):
            self._progress.update(self._task, completed=min(self.limit,
                                                            time.monotonic() - self._t0))

    def __call__(self, p: Any) -> None:
        line = self.format_line(p)
        if self._progress is not None:
            self._progress.update(self._task, description=f"{self.label} · {line}")
        else:
            print(f"[{p.elapsed:6.1f} s] {line}", file=self.stream, flush=True)

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
