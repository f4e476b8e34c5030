"""Where the command line writes, checked before any solving: never over an input, never a
folder where a file goes (or a file where a folder goes), never a silent overwrite of an
existing file: a plan without ``--out`` goes to a new name, and a file named with ``--out``,
``--xlsx`` or ``--errors`` that already exists is replaced only with ``--force``.

A slip in a path used to cost a whole solve and end in a traceback (``--xlsx out/``:
``IsADirectoryError``; ``--ics README.md``: ``FileExistsError``), and ``plan`` without
``--out`` rewrote ``plan.json``, the very file the next command read. Each check here is one
line on stderr (``InputError`` naming the option) before the planner starts.

Examples
--------
>>> new_plan_name(dt.datetime(2026, 12, 7, 9, 5), Path("/nonexistent"))
PosixPath('/nonexistent/plan-20261207-0905.json')
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from engine.errors import InputError, Problem, file_problem
from service.i18n import _

__all__ = ["add_force", "check_dask_address", "check_outputs", "new_plan_name", "written"]


def new_plan_name(now: dt.datetime | None = None, folder: Path | None = None,
                  stem: str = "plan") -> Path:
    """``plan-YYYYMMDD-HHMM.json`` in ``folder`` (the current one), with ``-2``, ``-3`` … when
    that name is taken: a plan without ``--out`` never replaces an earlier one."""
    now = now or dt.datetime.now()
    folder = folder or Path()
    base = f"{stem}-{now:%Y%m%d-%H%M}"
    path, n = folder / f"{base}.json", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.json"
    return path


def add_force(p: argparse.ArgumentParser) -> None:
    """``--force``: replace an output file that already exists (never an input)."""
    p.add_argument("--force", action="store_true",
                   help=_("replace an output file that already exists (never an input)"))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def check_outputs(*, files: Iterable[tuple[str, str | Path | None]] = (),
                  dirs: Iterable[tuple[str, str | Path | None]] = (),
                  inputs: Iterable[str | Path | None] = (), force: bool = False) -> None:
    """Raise ``InputError`` (every problem at once) when an output file is a folder or sits
    in a file, an output file exists (unless ``force``), two outputs are one file, an output
    folder is a file, or an output is one of the ``inputs`` (even with ``force``). ``files`` and ``dirs`` are
    ``(option, path)`` pairs; ``None`` paths are not given and skipped. Folders are written
    into as they are: their files are the handouts of the latest plan (calendars update in
    place). A place the system will not let this command write (no permission, a read-only
    disk) is named with the file as given, in the reader's words (``file_problem``), before
    anything is computed: a long solve is not lost to a file it cannot save."""
    problems: list[Problem] = []
    given = [Path(p) for p in inputs if p]
    earlier: list[tuple[str, Path]] = []
    for option, value in files:
        if not value:
            continue
        p = Path(value)
        first = next((o for o, q in earlier if _same(p, q)), None)
        earlier.append((option, p))
        if first is not None:
            problems.append(Problem(option, f"{value} is also given to {first}; give each "
                                    "output a file of its own",
                                    f"{value} は {first} にも指定されています。出力ごとに別の"
                                    "ファイル名を指定してください"))
        elif p.is_dir() or str(value).endswith(("/", "\\")):
            problems.append(Problem(option, f"{value} is a folder; give a file name "
                                    f"(e.g. {Path(value) / _example(option)})",
                                    f"{value} はフォルダです。ファイル名を指定してください"
                                    f"（例 {Path(value) / _example(option)}）"))
        elif any(_same(p, q) for q in given):
            problems.append(Problem(option, f"{value} is an input of this command; it is not "
                                    "overwritten (give another file name)",
                                    f"{value} はこのコマンドの入力ファイルです。上書きしません"
                                    "（別のファイル名を指定してください）"))
        elif (parent := _file_above(p)) is not None:
            problems.append(Problem(option, f"{parent} is a file, not a folder",
                                    f"{parent} はファイルです（フォルダではありません）"))
        elif p.exists() and not force:
            problems.append(Problem(option, f"{value} already exists; give another file name, "
                                    "or add --force to replace it",
                                    f"{value} はすでにあります。別のファイル名を指定するか、"
                                    "置き換えるときは --force を付けてください"))
        elif (refused := _refused(p, folder=False)) is not None:
            problems.append(file_problem(str(value), refused, writing=True))
    for option, value in dirs:
        if not value:
            continue
        p = Path(value)
        if p.exists() and not p.is_dir():
            problems.append(Problem(option, f"{value} is a file; give a folder",
                                    f"{value} はファイルです。フォルダを指定してください"))
        elif (parent := _file_above(p)) is not None:
            problems.append(Problem(option, f"{parent} is a file, not a folder",
                                    f"{parent} はファイルです（フォルダではありません）"))
        elif (refused := _refused(p, folder=True)) is not None:
            problems.append(file_problem(str(value), refused, writing=True))
    if problems:
        raise InputError(problems)


def _refused(p: Path, *, folder: bool) -> OSError | None:
    """Why the system would not let ``p`` be written (a file, or with ``folder`` a folder to
    write files into), else None: an existing file is opened for appending (nothing is
    written to it), else a nameless file is made and dropped in the nearest folder that
    exists (the folders below it are made when the outputs are written). The system is
    asked, not the permission bits: they say nothing of a read-only disk, or to root."""
    try:
        if p.is_file() and not folder:
            with p.open("ab"):
                return None
        above = next(a for a in ([p] if folder else []) + list(p.absolute().parents)
                     if a.exists())
        with tempfile.TemporaryFile(dir=above):
            return None
    except OSError as exc:
        return exc


@contextmanager
def written(path: str | Path) -> Iterator[None]:
    """Writing the output ``path`` (a file, or a folder of files): a failure the check
    before the work could not foresee (the disk filled, the folder went) becomes
    ``InputError`` naming the file, in the reader's words, instead of a traceback.

    >>> with written("out.json"):
    ...     raise PermissionError(13, "Permission denied", "out.json")
    Traceback (most recent call last):
    engine.errors.InputError: out.json: no permission to write it
    """
    try:
        yield
    except OSError as exc:
        # a file inside the folder ``path`` is named itself; a folder above ``path`` that
        # could not be made is named by the output it was for
        inside = exc.filename and Path(exc.filename) != Path(path) and Path(
            exc.filename).is_relative_to(path)
        name = str(exc.filename) if inside else str(path)
        raise InputError(file_problem(name, exc, writing=True)) from None


def _file_above(p: Path) -> Path | None:
    """The first existing ancestor of ``p`` that is a file (``README.md/x.ics``), or None."""
    for parent in p.absolute().parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def _example(option: str) -> str:
    return {"--xlsx": "plan.xlsx"}.get(option, "plan.json")


def check_dask_address(address: str, timeout: float = 3.0,
                       option: str = "--dask-address") -> None:
    """Raise ``InputError`` (naming ``option``) at once when nothing answers at the Dask
    scheduler's address (``tcp://host:port`` or ``host:port``), instead of a long wait and a
    traceback."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port or 8786
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise InputError(Problem(option, f"{address!r} is not host:port",
                                 f"{address!r} は host:port の形ではありません"))
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(Problem(option, f"no Dask scheduler answers at {address} "
                                 f"({reason})", f"{address} の Dask スケジューラに接続できません"
                                 f"（{reason}）")) from None
