"""Telling everyone an event affected: the outbox and its delivery by e-mail.

``compose(session, repaired, job)`` writes one message per affected municipality and expert
(``OutboxRow``) in the caller's transaction — the one that publishes the repaired plan, so a
plan is never published without its messages, nor a message stored for a plan that was not
(the outbox pattern). Each says what changed (the visits before and after), the new date,
time and place, who comes, and why (the event in words). A municipality reads its own
subjects; an expert reads every subject except confidential ones; nobody reads another
municipality's subject, nor which municipality cancelled or asked urgently. Messages are in
Japanese, or English when the recipient's contact says so (``ContactRow.lang``).

``Postman`` delivers them when ``DXSHARE_SMTP_URL`` is set (``smtp://host:port``): a
background thread that claims one unsent row at a time (a guarded update, so two server
processes never send the same row at once), sends it with its Message-ID, and marks it sent
once the SMTP server accepted it; a refusal or a time-out is retried with back-off (5 s,
doubling, at most 10 minutes). All state is in the database: a server killed at any moment
resumes after its restart with what is unsent. A message is sent again only if the process
dies after the SMTP server accepted it and before the row was marked (a window of one
commit); the stable Message-ID lets a receiving system drop such a copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
import time
from collections import defaultdict
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.model import Change, PlanRequest, Visit, fmt_time
from service.db import ContactRow, ExpertRow, MunicipalityRow, OutboxRow, PlanJob, utcnow
from service.i18n import N_, translator

__all__ = ["Postman", "compose", "outbox_view"]

log = logging.getLogger("dxshare.outbox")

_WD_JA = "月火水木金土日"


def _t(lang: str, message: str) -> str:
    return translator(lang).gettext(message)


def _day(lang: str, d: dt.date) -> str:
    return f"{d.month}/{d.day}（{_WD_JA[d.weekday()]}）" if lang == "ja" else \
        f"{d:%a} {d.month}/{d.day}"


def _when(lang: str, v: Visit) -> str:
    mode = _t(lang, N_("on-site") if v.mode == "onsite" else N_("online"))
    return f"{_day(lang, v.date)} {fmt_time(v.start)}–{fmt_time(v.end)} {mode}"


class _Names:
    """Names people read: municipalities and experts, in the recipient's language."""

    def __init__(self, session: Session, week: PlanRequest):
        self.muni = {m.code: (m.name_ja, m.name_en) for m in session.scalars(
            select(MunicipalityRow))}
        self.expert = {e.id: e.doc.get("name") or e.id for e in session.scalars(
            select(ExpertRow))}
        self.week = week

    def place(self, lang: str, code: str) -> str:
        ja, en = self.muni.get(code, (None, None))
        if ja is None:
            loc = self.week.location_by_id.get(code)
            return (loc.name if lang == "ja" else loc.label) if loc is not None else code
        return ja if lang == "ja" else f"{en} ({ja})" if en else ja

    def experts(self, ids: tuple[str, ...] | list[str]) -> str:
        return "・".join(self.expert.get(e, e) for e in ids)


def _why(lang: str, event: dict[str, Any], names: _Names) -> str:
    """The event in words, naming no municipality but a closed one (a public notice)."""
    kind = event["kind"]
    reason = f"（{event['reason']}）" if lang == "ja" and event.get("reason") else \
        f" ({event['reason']})" if event.get("reason") else ""
    if kind == "expert_unavailable":
        a, b = (dt.datetime.fromisoformat(event[k]) for k in ("from", "until"))
        return _t(lang, N_("{expert} is unavailable from {start} until {end}")).format(
            expert=names.experts([event["expert"]]),
            start=f"{_day(lang, a.date())} {a:%H:%M}", end=f"{_day(lang, b.date())} {b:%H:%M}"
        ) + reason
    if kind == "location_closed":
        d = dt.date.fromisoformat(event["date"])
        return _t(lang, N_("{place} is closed on {date} from {start} to {end}")).format(
            place=names.place(lang, event["location"]), date=_day(lang, d),
            start=event["from"], end=event["until"]) + reason
    return _t(lang, {
        "visit_overrun": N_("an earlier visit ran longer than planned"),
        "urgent_request": N_("an urgent consultation request came in"),
        "cancelled": N_("a visit was cancelled"),
        "no_show": N_("an earlier visit ended early"),
    }[kind])


def _line(lang: str, c: Change, week: PlanRequest, names: _Names, *, own: bool) -> str:
    q = week.request_by_id.get(c.request)
    title = q.title if q is not None and q.title and (own or not q.confidential) else ""
    head = (f"「{title}」" if lang == "ja" else f"'{title}' ") if title else ""
    head += f"({_t(lang, N_('request'))} {c.request})"
    place = names.place(lang, c.location)
    if c.kind == "moved":
        assert c.before is not None and c.after is not None
        body = _t(lang, N_("moved from {before} to {after} at {place}; {experts} will come"))
        text = body.format(before=_when(lang, c.before), after=_when(lang, c.after), place=place,
                           experts=names.experts(c.after.experts))
    elif c.kind == "added":
        assert c.after is not None
        text = _t(lang, N_("planned on {after} at {place}; {experts} will come")).format(
            after=_when(lang, c.after), place=place, experts=names.experts(c.after.experts))
    elif c.kind == "dropped":
        assert c.before is not None
        text = _t(lang, N_("the visit on {before} at {place} cannot take place this week"
                           )).format(before=_when(lang, c.before), place=place)
    else:
        assert c.before is not None
        text = _t(lang, N_("the visit on {before} at {place} is cancelled")).format(
            before=_when(lang, c.before), place=place)
    return f"・{head}: {text}"


def compose(session: Session, week: PlanRequest, changes: tuple[Change, ...],
            event: dict[str, Any], job: PlanJob) -> list[OutboxRow]:
    """The messages about ``changes`` (one per affected municipality and expert), added to
    ``session``; ``week`` names the requests, ``event`` (the plan's event block) says why."""
    per: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for c in changes:
        per["municipality", c.location].append(c)
        for v in (c.before, c.after):
            for e in v.experts if v is not None else ():
                if c not in per["expert", e]:
                    per["expert", e].append(c)
    contacts = {(c.kind, c.ref): c for c in session.scalars(select(ContactRow))}
    names = _Names(session, week)
    rows = []
    for (kind, ref), cs in sorted(per.items()):
        contact = contacts.get((kind, ref))
        lang = contact.lang if contact is not None else "ja"
        who = names.place(lang, ref) if kind == "municipality" else names.experts([ref])
        subject = _t(lang, N_("[dxshare] Changes to your visits ({n})")).format(n=len(cs))
        lines = [_t(lang, N_("Dear {name},")).format(name=who), "",
                 _t(lang, N_("The plan of the week changed because {why}.")).format(
                     why=_why(lang, event, names)), ""]
        lines += [_line(lang, c, week, names, own=kind == "municipality") for c in cs]
        lines += ["", _t(lang, N_("This message was sent by the DX support centre's planner. "
                                  "Please contact the centre with any question."))]
        rows.append(OutboxRow(
            message_id=f"<{job.id}.{kind}.{ref}@dxshare>", job_id=job.id, week=job.week,
            kind=event["kind"], recipient_kind=kind, recipient=ref, lang=lang,
            address=contact.email if contact is not None else None, subject=subject,
            body="\n".join(lines) + "\n", requests=[c.request for c in cs], attempts=0,
            created_at=utcnow()))
    session.add_all(rows)
    return rows


def _utc(t: dt.datetime) -> str:
    # SQLite gives the stored UTC time back without its zone
    return (t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)).isoformat()


def outbox_view(m: OutboxRow) -> dict[str, Any]:
    return {"id": m.id, "message_id": m.message_id, "job": m.job_id,
            "week": m.week.isoformat() if m.week else None, "event": m.kind,
            "recipient_kind": m.recipient_kind, "recipient": m.recipient, "lang": m.lang,
            "address": m.address, "subject": m.subject, "body": m.body,
            "requests": list(m.requests), "created_at": _utc(m.created_at),
            "sent": m.sent_at is not None,
            "sent_at": _utc(m.sent_at) if m.sent_at else None,
            "attempts": m.attempts, "last_error": m.last_error,
            "needs_call": m.address is None and m.sent_at is None,
            # no address, so never e-mailed: passed on by telephone (``POST …/phoned``)
            "phoned": m.address is None and m.sent_at is not None}


# ------------------------------------------------------------------------------- delivery

class Postman:
    """Delivers the outbox's unsent e-mails to ``url`` (``smtp://host:port[?from=addr]``)
    from a background thread (``start``/``stop``), or one pass at a time (``deliver``)."""

    def __init__(self, sessions: sessionmaker[Session], url: str, *, timeout: float = 10.0,
                 poll: float = 0.5, first_retry: float = 5.0, max_retry: float = 600.0):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"DXSHARE_SMTP_URL must be smtp://host:port, got {url!r}")
        self.sessions = sessions
        self.host, self.port = parts.hostname, parts.port or 25
        self.ssl = parts.scheme == "smtps"
        self.user, self.password = parts.username, parts.password
        self.sender = parse_qs(parts.query).get("from", ["dxshare@localhost"])[0]
        self.timeout, self.poll = timeout, poll
        self.first_retry, self.max_retry = first_retry, max_retry
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dxshare-postman", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.deliver()
            except Exception:   # noqa: BLE001 - the database may be away for a moment
                log.exception("outbox delivery pass failed")
                busy = 0
            if not busy:
                self._stop.wait(self.poll)

    def _claim(self, after: int) -> OutboxRow | None:
        now = dt.datetime.now(dt.UTC)
        with self.sessions.begin() as s:
            row = s.scalar(select(OutboxRow).where(
                OutboxRow.id > after, OutboxRow.sent_at.is_(None),
                OutboxRow.address.is_not(None),
                or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now),
                or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now))
                .order_by(OutboxRow.id).limit(1))
            if row is None:
                return None
            until = now + dt.timedelta(seconds=self.timeout * 3 + 30)
            # the database decides (not the session, which would compare the loaded row's
            # claim, zone-less on SQLite, with an aware time in Python and fail on every row
            # a killed sender left claimed)
            took = s.execute(update(OutboxRow).where(
                OutboxRow.id == row.id, OutboxRow.sent_at.is_(None),
                or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now))
                .values(claimed_until=until)
                .execution_options(synchronize_session=False)
                ).rowcount  # type: ignore[attr-defined]
            if not took:
                return None
            s.flush()
            s.expunge(row)
            return row

    def deliver(self) -> int:
        """One pass over what is due, oldest first; the number of messages tried."""
        tried = last = 0
        while not self._stop.is_set():
            row = self._claim(last)
            if row is None:
                return tried
            tried, last = tried + 1, row.id
            error = self._send(row)
            now = dt.datetime.now(dt.UTC)
            with self.sessions.begin() as s:
                if error is None:
                    s.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(
                        sent_at=now, attempts=OutboxRow.attempts + 1, claimed_until=None,
                        last_error=None))
                else:
                    wait = min(self.max_retry, self.first_retry * 2 ** min(row.attempts, 12))
                    s.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(
                        attempts=OutboxRow.attempts + 1, claimed_until=None, last_error=error,
                        next_attempt_at=now + dt.timedelta(seconds=wait)))
        return tried

    def _send(self, row: OutboxRow) -> str | None:
        """None when the SMTP server accepted the message, else what went wrong."""
        msg = EmailMessage()
        msg["Message-ID"] = row.message_id
        msg["From"] = self.sender
        msg["To"] = row.address
        msg["Subject"] = row.subject
        msg["Date"] = formatdate(time.time(), localtime=False)
        msg.set_content(row.body)
        try:
            cls = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
            with cls(self.host, self.port, timeout=self.timeout) as smtp:
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        return None
