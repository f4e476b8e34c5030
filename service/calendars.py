"""The calendars handed out, one ``.ics`` file per expert, named as people name the expert.

A coordinator forwards ``広報担当.ics`` to the PR expert, not ``pr-1.ics``: the file is named
by the expert's name, or, when the request gives none, by the field in the catalogue's words
(``データ利活用担当``, ``data use expert``). Names are made safe as file names on Windows,
macOS and Linux (``/`` and the other characters they refuse become their full-width forms,
reserved names such as ``CON`` get a ``_``, at most 60 characters) and unique in a folder
whose file system ignores case: two experts of one name are told apart by their base
(``広報担当（松山市）``), and only when that is shared too by their id. The names do not
depend on the order of the experts, so the calendar of an expert is found again by the next
event's repair; it also finds calendars written in the other language (an expert without a
name) and those older versions named by id (``pr-1.ics``), and takes them over: their
``SEQUENCE`` goes on, and the folder keeps one calendar per expert.

Examples
--------
>>> from engine.model import Expert
>>> calendar_stems([Expert(id="pr-1", fields=("pr",), base="382019", name="広報担当"),
...                 Expert(id="data-1", fields=("data",), base="382019")], "ja")
{'pr-1': '広報担当', 'data-1': 'データ利活用担当'}
>>> cancel_stem("広報担当", "ja")
'広報担当（取り消し）'
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from engine.errors import InputError, Problem
from engine.model import FIELD_LABELS, Expert, Plan, PlanRequest
from service.i18n import LANGS, N_, current_lang, translator

__all__ = ["calendar_stems", "cancel_stem", "update_calendars", "write_calendars"]

#: The longest stem: 60 characters of three UTF-8 bytes each, with the cancellation's suffix
#: and ``.ics``, stay under the 255 bytes most file systems allow.
MAX_STEM = 60
#: Characters Windows refuses in a file name (``/`` everywhere), as their full-width forms.
_FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in '<>:"/\\|?*'})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
#: The catalogue's words for the file names, in the language asked for (not the current one:
#: an event looks for the files a command in the other language wrote).
_FIELD_EXPERT = N_("{field} expert")
_CANCELLED = N_("{name} (cancelled)")
_TOLD_APART = N_("{name} ({which})")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


def _safe(text: str) -> str:
    """``text`` as a file name stem: nothing a file system refuses or hides, ``''`` when
    nothing is left."""
    s = _CONTROL.sub(" ", text).translate(_FULL_WIDTH)
    s = " ".join(s.split())[:MAX_STEM].strip(" .")
    if s.split(".")[0].upper() in _RESERVED:
        s += "_"
    return s


def _key(stem: str) -> str:
    """What a file system may take for the same name: case and width ignored."""
    return unicodedata.normalize("NFKC", stem).casefold()


def _field_name(e: Expert, lang: str) -> str:
    labels = "・".join(FIELD_LABELS[f][1 if lang == "ja" else 0] if f in FIELD_LABELS else f
                      for f in e.fields)
    return translator(lang).gettext(_FIELD_EXPERT).format(field=labels) if labels else ""


def _display(e: Expert, lang: str) -> str:
    """The expert as the calendar program shows the calendar: the name, else the field."""
    return e.name or _field_name(e, lang) or e.id


def cancel_stem(stem: str, lang: str | None = None) -> str:
    """The stem of the file of an expert's cancellations: ``広報担当（取り消し）``."""
    return translator(lang or current_lang()).gettext(_CANCELLED).format(name=stem)


def calendar_stems(experts: Iterable[Expert], lang: str | None = None,
                   places: Mapping[str, str] | None = None) -> dict[str, str]:
    """Expert id → the stem of the expert's calendar file (without ``.ics``), in ``lang``
    (the current language by default); ``places`` names the experts' bases (location id →
    name) for telling apart two experts of the same name."""
    lang = lang or current_lang()
    given = list(experts)
    experts = sorted(given, key=lambda e: e.id)
    base = {e.id: _safe(e.name) or _safe(_field_name(e, lang)) or _safe(e.id) or "expert"
            for e in experts}
    where = places or {}
    stems = _tell_apart(base, base, experts, lambda e: where.get(e.base, ""), lang)
    stems = _tell_apart(stems, base, experts, lambda e: e.id, lang)
    taken: set[str] = set()
    for e in experts:         # what is left (ids that differ only in case): numbered
        s, n = stems[e.id], 1
        while _key(s) in taken or _key(cancel_stem(s, lang)) in taken:
            n += 1
            s = f"{stems[e.id]} {n}"
        stems[e.id] = s
        taken |= {_key(s), _key(cancel_stem(s, lang))}
    return {e.id: stems[e.id] for e in given}


def _tell_apart(stems: Mapping[str, str], base: Mapping[str, str], experts: Sequence[Expert],
                which: Callable[[Expert], str], lang: str) -> dict[str, str]:
    """``stems`` where one names two experts (or another's cancellations) told apart:
    ``広報担当（松山市）``."""
    counts = Counter(_key(s) for s in stems.values())
    cancels = {_key(cancel_stem(s, lang)) for s in stems.values()}
    t = translator(lang).gettext
    out = dict(stems)
    for e in experts:
        s = stems[e.id]
        if (counts[_key(s)] > 1 or _key(s) in cancels) and (tell := which(e)):
            name = base[e.id][:MAX_STEM - len(tell) - 3]
            out[e.id] = _safe(t(_TOLD_APART).format(name=name, which=tell))
    return out


def _places(problem: PlanRequest, lang: str) -> dict[str, str]:
    return {loc.id: loc.name if lang == "ja" else loc.name_en or loc.name
            for loc in problem.locations}


def _candidates(problem: PlanRequest, lang: str) -> dict[str, tuple[list[str], list[str]]]:
    """Expert id → the stems its calendar and its cancellations may have been written under
    before: in the other language, and by id as older versions did."""
    out: dict[str, tuple[list[str], list[str]]] = {e.id: ([], []) for e in problem.experts}
    for other in (x for x in LANGS if x != lang):
        for ident, stem in calendar_stems(problem.experts, other, _places(problem, other)).items():
            out[ident][0].append(stem)
            out[ident][1].append(cancel_stem(stem, other))
    for e in problem.experts:
        out[e.id][0].append(e.id)
        out[e.id][1].append(f"{e.id}-cancel")
    return out


def _read_sequences(path: Path) -> dict[str, int]:
    from engine.ical import calendar_sequences  # start fast

    try:
        return calendar_sequences(path.read_bytes())
    except ValueError as exc:
        raise InputError(Problem("--ics", f"{path.name} is no iCalendar file ({exc})",
                                 f"{path.name} は iCalendar ファイルではありません")) from None


def write_calendars(folder: str | Path, problem: PlanRequest, plan: Plan) -> list[Path]:
    """Each expert's calendar of ``plan`` as ``FOLDER/NAME.ics`` (``engine.ical``); a
    calendar of the same expert under an earlier name (found as ``update_calendars`` finds
    it) is replaced. The files written."""
    from engine.ical import expert_calendar  # start fast

    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    lang = current_lang()
    stems = calendar_stems(problem.experts, lang, _places(problem, lang))
    mine = _current_files(stems, lang)
    written = []
    for e in problem.experts:
        path = d / f"{stems[e.id]}.ics"
        path.write_bytes(expert_calendar(problem, plan, e.id, name=_display(e, lang)))
        written.append(path)
    for old, _ in _candidates(problem, lang).values():
        _remove(d, old, mine)
    for ident, (calendars, _) in _owned(d, mine).items():
        if ident in stems and calendars:
            _remove(d, [calendars[0].stem], mine)   # the latest, under a name it had before
    return written


def update_calendars(folder: str | Path, week: PlanRequest, plan: Plan) -> list[Path]:
    """Each expert's calendar updated in place after ``plan.changes`` (an event's repair, a
    re-plan): ``FOLDER/NAME.ics`` rewritten with the SEQUENCE of every changed event (a
    visit, a lunch break moved, a night away) one above the calendar it replaces, and
    ``FOLDER/NAME（取り消し）.ics`` (METHOD:CANCEL) for the events the expert no longer has
    (visits, lunch breaks, nights); an older cancellation is removed, it is not sent again.
    The calendar replaced is found under its name, its name in the other language, its id,
    or by its events (their UIDs name the expert: a calendar written before the expert was
    named, or renamed); it goes, and the folder keeps one calendar per expert (a copy of an
    older one someone kept beside it stays). The cancellation files written."""
    from engine.ical import calendar_update  # start fast

    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    lang = current_lang()
    stems = calendar_stems(week.experts, lang, _places(week, lang))
    mine = _current_files(stems, lang)
    earlier = _candidates(week, lang)
    owned = _owned(d, mine)
    cancels = []
    for e in week.experts:
        path = d / f"{stems[e.id]}.ics"
        full_before, cancel_before = owned.get(e.id, ([], []))
        named = [d / f"{s}.ics" for s in earlier[e.id][0]]
        found = next((p for p in (path, *named, *full_before)
                      if p.is_file() and (p == path or _key(p.name) not in mine)), None)
        before = _read_sequences(found) if found is not None else {}
        full, cancel, _seq = calendar_update(
            week, plan, e.id, plan.changes, before, name=_display(e, lang),
            previous=found.read_bytes() if found is not None else None)
        path.write_bytes(full)
        gone = d / f"{cancel_stem(stems[e.id], lang)}.ics"
        if cancel is not None:
            gone.write_bytes(cancel)
            cancels.append(gone)
        elif gone.exists():
            gone.unlink()
        _remove(d, earlier[e.id][0] + earlier[e.id][1], mine)
        # found by its events: the calendar replaced goes (a copy kept beside it stays)
        _remove(d, [p.stem for p in cancel_before + full_before if p == found], mine)
        _remove(d, [p.stem for p in cancel_before], mine)
    return cancels


def _owned(d: Path, mine: set[str]) -> dict[str, tuple[list[Path], list[Path]]]:
    """Expert id → the calendars and cancellations in ``d`` that are that expert's alone by
    their events (the latest first), among the files no expert has by name now. A file that is not an
    iCalendar file, or holds anyone else's events, is no one's."""
    from engine.ical import calendar_experts  # start fast

    out: dict[str, tuple[list[Path], list[Path]]] = {}
    # the latest first: the calendar last handed out, before any copy of an older one
    for p in sorted(d.glob("*.ics"), key=lambda p: (-p.stat().st_mtime, p.name)):
        if _key(p.name) in mine or not p.is_file():
            continue
        try:
            method, experts = calendar_experts(p.read_bytes())
        except ValueError:
            continue
        if len(experts) == 1:
            (ident,) = experts
            out.setdefault(ident, ([], []))[1 if method == "CANCEL" else 0].append(p)
    return out


def _current_files(stems: Mapping[str, str], lang: str) -> set[str]:
    """The keys of the files the experts have now (a file system may ignore case: ``ena.ics``
    may be ``Ena.ics``, never to be removed as an earlier name)."""
    return {_key(f"{s}.ics") for s in stems.values()} | {
        _key(f"{cancel_stem(s, lang)}.ics") for s in stems.values()}


def _remove(d: Path, stems: Iterable[str], keep: set[str]) -> None:
    """Earlier files of one expert, unless one of them is now another expert's file."""
    for s in stems:
        p = d / f"{s}.ics"
        if _key(p.name) not in keep and p.is_file():
            p.unlink()
