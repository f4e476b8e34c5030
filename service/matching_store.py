"""The programme's matching data as stored in the database, and the graph built from it.

Needs, candidates, engagements and conflicts live in their own tables (``service.db``), each
row in match-data/1 record form (``docs/MATCHING.md``). Every change goes through
``validated`` (the whole data set with the change must read as match-data/1, with the same
messages as ``dxshare match``) and ``bump`` (a version number in the same transaction). The
``/v1/matching`` routes answer from ``MatchingStore.graph()``, which is rebuilt when the
stored version moved on (changes made by this server are seen at once; by another process,
within ``CHECK_SECONDS``), so recommendations, the assignment and peers always run on what
is stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import InputError, Problem
from service.db import MATCH_TABLES, Meta, utcnow

__all__ = ["CHECK_SECONDS", "MatchingStore", "bump", "seed_demo", "stored_document",
           "strict_problems", "validated"]

#: Seconds between looks at the stored version (changes by other processes).
CHECK_SECONDS = 1.0
#: The longest id a stored row may have (the database columns' width).
ID_LENGTH = 64
_VERSION_KEY = "matching_version"


def _version(s: Session) -> int:
    row = s.get(Meta, _VERSION_KEY)
    return int(row.value) if row is not None else 0


def bump(s: Session) -> int:
    """Count a change of the matching data (in the caller's transaction)."""
    row = s.get(Meta, _VERSION_KEY)
    if row is None:
        row = Meta(key=_VERSION_KEY, value="0")
        s.add(row)
    row.value = str(int(row.value) + 1)
    s.flush()
    return int(row.value)


def stored_document(s: Session) -> dict[str, Any]:
    """The stored data as one match-data/1 document (rows in id order)."""
    doc: dict[str, Any] = {"format": "match-data/1", "meta": {"source": "database"}}
    for table, model in MATCH_TABLES.items():
        doc[table] = [dict(r.doc) for r in s.scalars(select(model).order_by(model.id))]
    return doc


def _relocate(problems: list[Problem], table: str, index: int | None) -> list[Problem]:
    """Problems of the edited row named by its own fields (``field``, not
    ``needs[12].field``); problems elsewhere keep their full path."""
    if index is None:
        return problems
    prefix = f"{table}[{index}]"
    out = []
    for p in problems:
        if p.path == prefix:
            out.append(Problem("", p.message, p.message_ja))
        elif p.path.startswith(prefix + "."):
            out.append(Problem(p.path[len(prefix) + 1:], p.message, p.message_ja))
        else:
            out.append(p)
    return out


#: JSON types a column of each kind takes (bool is never a number: ``true`` is not 1).
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,), "float": (int, float), "bool": (bool,), "tags": (list, str),
    "fields": (list, str), "skills": (dict, list, str)}
_WORDS = {"int": ("a whole number", "整数"), "float": ("a number", "数値"),
          "bool": ("true or false", "true または false"),
          "tags": ("a list of texts", "文字列のリスト"),
          "fields": ("a list of texts", "文字列のリスト"),
          "skills": ("an object of levels", "レベルのオブジェクト"),
          "str": ("text", "文字列")}


def _kind_ok(kind: str, value: Any) -> bool:
    types = _JSON_TYPES.get(kind, (str,))
    if isinstance(value, bool) and bool not in types:
        return False
    if not isinstance(value, types):
        return False
    if kind == "int" and isinstance(value, float):
        return False
    if kind in ("tags", "fields") and isinstance(value, list):
        return all(isinstance(v, str) for v in value)
    return True


def strict_problems(tables: Mapping[str, Any]) -> list[Problem]:
    """Problems of JSON records held to their columns' types, as every other body is:
    numbers as JSON numbers, yes/no as JSON booleans, text as strings (``"priority": "1"``
    and ``"confidential": 1`` are refused; CSV cells, which are all text, are read by the
    table readers instead). ``null`` is an absent value. Records that are not objects and
    unknown columns are left to the reader, which names them.

    >>> [p.path for p in strict_problems({"needs": [{"priority": "1", "title": "x"}]})]
    ['needs[0].priority']
    """
    from engine.matching.io import COLUMN_KINDS  # start fast

    problems = []
    for table, rows in tables.items():
        kinds = COLUMN_KINDS.get(table)
        if kinds is None or not isinstance(rows, list):
            continue
        for i, rec in enumerate(rows):
            if not isinstance(rec, dict):
                continue
            for col, value in rec.items():
                kind = kinds.get(col)
                if kind is None or value is None or _kind_ok(kind, value):
                    continue
                en, ja = _WORDS.get(kind, _WORDS["str"])
                problems.append(Problem(f"{table}[{i}].{col}", f"must be {en}",
                                        f"{ja}が必要です"))
    return problems


def validated(s: Session, *, replace: Mapping[str, list[dict[str, Any]]] | None = None,
              row: tuple[str, dict[str, Any], Any] | None = None,
              drop: tuple[str, Any] | None = None) -> Any:
    """The stored data with one change, read as match-data/1 (``MatchData``), or
    ``InputError`` naming each problem.

    ``replace``: whole tables; ``row``: ``(table, record, key)`` puts one record (a new
    one when ``key`` is None); ``drop``: ``(table, key)`` removes one. Problems of the
    changed row are named by its fields alone.
    """
    from engine.matching import parse_document  # start fast

    doc = stored_document(s)
    index = None
    table = None
    if replace:
        doc.update({t: list(rows) for t, rows in replace.items()})
    if row is not None:
        table, record, key = row
        keys = [r.id for r in s.scalars(select(MATCH_TABLES[table])
                                        .order_by(MATCH_TABLES[table].id))]
        if key is not None and key in keys:
            index = keys.index(key)
            doc[table][index] = record
        else:
            index = len(doc[table])
            doc[table].append(record)
    if drop is not None:
        table, key = drop
        keys = [r.id for r in s.scalars(select(MATCH_TABLES[table])
                                        .order_by(MATCH_TABLES[table].id))]
        if key in keys:
            del doc[table][keys.index(key)]
    fresh: dict[str, Any] = dict(replace or {})
    if row is not None and table is not None and index is not None:
        fresh[table] = [None] * index + [row[1]]  # only the new record, at its index
    try:
        strict = strict_problems(fresh)
        if strict:
            raise InputError(strict)
        return parse_document(doc)
    except InputError as err:
        raise InputError(_relocate(list(err.problems), table or "", index)) from None


def store_tables(s: Session, data: Any, tables: tuple[str, ...]) -> dict[str, int]:
    """Replace the stored ``tables`` by those of ``data`` (a validated ``MatchData``);
    returns the row counts."""
    from engine.matching import to_document  # start fast

    doc = to_document(data)
    counts = {}
    too_long = [Problem(f"{table}[{i}].id", f"at most {ID_LENGTH} characters",
                        f"{ID_LENGTH} 文字以内にしてください")
                for table in tables for i, rec in enumerate(doc.get(table, []))
                if len(str(rec.get("id", ""))) > ID_LENGTH]
    if too_long:
        raise InputError(too_long)
    for table in tables:
        model = MATCH_TABLES[table]
        s.execute(delete(model))
        for rec in doc.get(table, []):
            s.add(row_for(table, rec))
        counts[table] = len(doc.get(table, []))
    s.flush()
    return counts


def row_for(table: str, rec: dict[str, Any], existing: Any = None) -> Any:
    """The ORM row of one match-data/1 record (``existing`` is updated in place)."""
    model = MATCH_TABLES[table]
    cols: dict[str, Any] = {"doc": rec, "updated_at": utcnow()}
    if table == "needs":
        cols.update(id=rec["id"], municipality=rec["municipality"],
                    confidential=bool(rec.get("confidential", False)))
    elif table == "candidates":
        cols.update(id=rec["id"])
    elif table == "engagements":
        cols.update(id=rec["id"], candidate=rec["candidate"], municipality=rec["municipality"])
    else:
        cols.update(candidate=rec["candidate"], municipality=rec["municipality"])
    if existing is None:
        return model(**cols)
    for k, v in cols.items():
        if k != "id":
            setattr(existing, k, v)
    return existing


def seed_demo(s: Session) -> bool:
    """Store the bundled synthetic demo (60 needs, 200 candidates) when no matching data is
    stored yet; returns whether it did."""
    from engine.matching import load_demo  # start fast

    if any(s.scalar(select(m).limit(1)) is not None for m in MATCH_TABLES.values()):
        return False
    store_tables(s, load_demo(), tuple(MATCH_TABLES))
    bump(s)
    return True


def normalised(data: Any, table: str, key: Any) -> dict[str, Any]:
    """The stored form of one record of validated ``data`` (as ``to_document`` writes it:
    names resolved to codes, defaults filled)."""
    from engine.matching import to_document  # start fast

    for rec in to_document(data).get(table, []):
        if table == "conflicts":
            if (rec["candidate"], rec["municipality"]) == key:
                return dict(rec)
        elif rec["id"] == key:
            return dict(rec)
    raise KeyError(key)


class MatchingStore:
    """The graph of the stored matching data, rebuilt when the data changes.

    Answers (recommendations, assignments) are cached per version, so a change is never
    answered from the old data.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: sessionmaker[Session] | None = None
        self._graph: Any = None
        self._built_version = -1
        self._known_version = 0
        self._checked = 0.0
        self.answers: dict[tuple[Any, ...], Any] = {}

    def bind(self, sessions: sessionmaker[Session]) -> None:
        with self._lock:
            self._sessions = sessions
            self._graph, self._built_version, self._checked = None, -1, 0.0
            self.answers.clear()

    def warm(self) -> None:
        threading.Thread(target=self.graph, name="matching-graph", daemon=True).start()

    def changed(self, version: int) -> None:
        """This process wrote ``version`` (committed): the next answer uses it."""
        self._known_version = max(self._known_version, version)
        self._checked = 0.0

    def ready(self) -> bool:
        """The graph is built for the newest known version and was checked recently."""
        return (self._graph is not None and self._built_version == self._known_version
                and time.monotonic() - self._checked < CHECK_SECONDS)

    @property
    def version(self) -> int:
        return self._built_version

    def graph(self) -> Any:
        """The graph of the stored data (rebuilt first if the data changed)."""
        from engine.matching import parse_document  # start fast
        from solvers.matching import build_graph  # start fast

        if self.ready():
            return self._graph
        with self._lock:
            assert self._sessions is not None, "the store is not bound to a database"
            if time.monotonic() - self._checked >= CHECK_SECONDS or \
                    self._built_version != self._known_version:
                with self._sessions() as s:
                    version = _version(s)
                    self._known_version = max(self._known_version, version)
                    self._checked = time.monotonic()
                    if self._graph is None or version != self._built_version:
                        data = parse_document(stored_document(s))
                        self._graph = build_graph(data)
                        self._built_version = version
                        self.answers.clear()
            return self._graph

