"""Typed errors: every input problem carries the path of the offending field."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Conflict", "InputError", "Problem", "file_problem", "read_utf8"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input document.

    ``path`` names the field the way a reader finds it in the document, e.g.
    ``requests[3].duration_min``; ``message`` is English, ``message_ja`` Japanese.
    ``path_ja`` is the place in Japanese where it reads differently (a spreadsheet's
    ``5 行目「所要時間」``), else the path serves both.
    """

    path: str
    message: str
    message_ja: str = ""
    path_ja: str = ""

    def where(self, lang: str = "en") -> str:
        return self.path_ja if lang == "ja" and self.path_ja else self.path

    def text(self, lang: str = "en") -> str:
        body = self.message_ja if lang == "ja" and self.message_ja else self.message
        where = self.where(lang)
        return f"{where}: {body}" if where else body


class InputError(ValueError):
    """Input that cannot be used; ``problems`` lists every problem found, in document order.

    ``str(err)`` is the first problem (and how many more), fit for one line on stderr.

    Examples
    --------
    >>> err = InputError([Problem("requests[3].duration_min", "must be > 0")])
    >>> str(err)
    'requests[3].duration_min: must be > 0'
    """

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems: list[Problem] = list(problems)
        super().__init__(self.summary())

    def summary(self, lang: str = "en") -> str:
        first = self.problems[0].text(lang)
        more = len(self.problems) - 1
        if more:
            first += f" (他 {more} 件)" if lang == "ja" else f" (and {more} more)"
        return first

    def to_list(self, lang: str = "en") -> list[dict[str, str]]:
        return [
            {"path": p.path,
             "message": p.message_ja if lang == "ja" and p.message_ja else p.message}
            for p in self.problems
        ]


class Conflict(Exception):
    """A request that is well formed but cannot be carried out in the present state (a
    request already done, a slot the week no longer has room for): ``message`` in English,
    ``message_ja`` in Japanese. The service answers it with 409 problem+json, the CLI with one
    line on stderr.

    Examples
    --------
    >>> str(Conflict("a done request has no slot to choose", "完了の依頼には日時を選べません"))
    'a done request has no slot to choose'
    """

    def __init__(self, message: str, message_ja: str = ""):
        super().__init__(message)
        self.message, self.message_ja = message, message_ja or message

    def text(self, lang: str = "en") -> str:
        return self.message_ja if lang == "ja" else self.message


#: What went wrong with a file, by the operating system's error number: (English, Japanese)
#: when reading it, and when writing it. The system's own words are English whatever the
#: reader's language, and say ``[Errno 13]``.
_FILE_WORDS: dict[int, tuple[tuple[str, str], tuple[str, str]]] = {
    errno.ENOENT: (("file not found", "ファイルが見つかりません"),
                   ("its folder does not exist", "保存先のフォルダがありません")),
    errno.EACCES: (("no permission to read it", "読み取りの権限がありません"),
                   ("no permission to write it", "書き込みの権限がありません")),
    errno.EPERM: (("no permission to read it", "読み取りの権限がありません"),
                  ("no permission to write it", "書き込みの権限がありません")),
    errno.EISDIR: (("is a folder, not a file", "フォルダです（ファイルを指定してください）"),
                   ("is a folder, not a file", "フォルダです（ファイルを指定してください）")),
    errno.ENOTDIR: (("a part of the path is a file, not a folder",
                     "パスの途中にフォルダではなくファイルがあります"),
                    ("a part of the path is a file, not a folder",
                     "パスの途中にフォルダではなくファイルがあります")),
    errno.ENOSPC: (("cannot be read", "読み込めません"),
                   ("the disk is full", "ディスクの空きがありません")),
    errno.EROFS: (("cannot be read", "読み込めません"),
                  ("the place is read-only", "読み取り専用の場所です")),
}


def file_problem(path: str, exc: OSError, *, writing: bool = False) -> Problem:
    """A file that could not be read (or, with ``writing``, written) as a problem at
    ``path``, in words of both languages instead of the system's.

    >>> file_problem("needs.json", PermissionError(13, "Permission denied")).text("ja")
    'needs.json: 読み取りの権限がありません'
    >>> file_problem("out/x.json", FileNotFoundError(2, "x"), writing=True).text()
    'out/x.json: its folder does not exist'
    """
    reading, written = _FILE_WORDS.get(exc.errno or 0, (("cannot be read", "読み込めません"),
                                                        ("cannot be written", "書き込めません")))
    en, ja = written if writing else reading
    return Problem(path, en, ja)


def read_utf8(path: str | Path) -> str:
    """The text of a UTF-8 file; a file that cannot be read (``file_problem``) or is not
    UTF-8 raises ``InputError`` at its path, in words of both languages."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(file_problem(str(p), exc)) from None
    except UnicodeDecodeError:
        raise InputError(Problem(str(p), "not UTF-8 text (save the file as UTF-8)",
                                 "UTF-8 のテキストではありません（UTF-8 で保存してください）")
                         ) from None
