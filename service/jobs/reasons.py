"""Why a plan job ended without a plan (failed, or cancelled), in English and in Japanese
(``plan_jobs.reason``, ``plan_jobs.reason_ja``): the dashboard's page is Japanese by
default, and a coordinator should not have to read ``solver error: KeyError: 'x'`` to learn
that the planner stopped.

Each function returns ``(English, Japanese)``. The English is the message as written (what
the service has always stored in ``reason``); the Japanese is the gettext catalogue's
(``service/locale``), so the words are kept with the service's other messages. Bad input
reuses the Japanese its problems already carry (``engine.errors.Problem.message_ja``), and a
plan that could not be made gives the planner's own Japanese notes (plan/1 ``messages_ja``).

Examples
--------
>>> solver_error(KeyError("x"))[1]
'計画の計算が内部エラーで止まりました（KeyError）。もう一度計画を作成してください'
>>> gave_up(1)[0]
'interrupted by a server restart; gave up after 1 attempt'
>>> no_plan("error", [], [])[1]
'計画を作れませんでした（結果: エラー）'
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import InputError
from service.glossary import STATUS_WORDS
from service.i18n import N_, NP_, translator

__all__ = ["Reason", "cancelled", "exit_reason", "gave_up", "invalid_input", "no_plan",
           "solver_error", "worker_failed"]

#: (English, Japanese).
Reason = tuple[str, str]


def _both(message: str, **values: object) -> Reason:
    """``message`` (an English ``msgid`` with ``{name}`` fields) and its Japanese, filled in."""
    return message.format(**values), translator("ja").gettext(message).format(**values)


def invalid_input(err: InputError) -> Reason:
    """The job's document cannot be planned: its first problem (and how many more), each
    language in its own words."""
    return (N_("invalid input: {problem}").format(problem=err.summary("en")),
            translator("ja").gettext(N_("invalid input: {problem}")).format(
                problem=err.summary("ja")))


def solver_error(exc: BaseException) -> Reason:
    """The planner raised: the English keeps the exception for whoever reads the log; the
    Japanese says the planner stopped on an internal error, naming only its kind."""
    return (f"solver error: {type(exc).__name__}: {exc}",
            _both(N_("the planner stopped on an internal error ({error}); run the plan again"),
                  error=type(exc).__name__)[1])


def worker_failed(exc: BaseException) -> Reason:
    """The worker that ran the job failed outside the planner (a Dask worker lost, …)."""
    return (f"worker failed: {type(exc).__name__}: {exc}",
            _both(N_("the worker running the plan failed ({error}); run the plan again"),
                  error=type(exc).__name__)[1])


def no_plan(status: str, messages: Sequence[str], messages_ja: Sequence[str]) -> Reason:
    """The planner answered without a plan: its own notes, else the status it answered."""
    if not messages:
        word = STATUS_WORDS.get(status)
        return (f"no plan: the planner answered {status}",
                translator("ja").gettext(N_("no plan: the planner answered {status}")).format(
                    status=translator("ja").gettext(word) if word else status))
    ja = "／".join(messages_ja) or "; ".join(messages)
    return ("no plan: " + "; ".join(messages),
            translator("ja").gettext(N_("no plan: {reason}")).format(reason=ja))


def exit_reason(ended: str, *, grace: float, limit: float, memory_mb: int | None,
                exitcode: int | None) -> Reason:
    """A worker process that ended without writing its job: terminated ``grace`` s after its
    time limit (``ended == "deadline"``), out of memory, or crashed with ``exitcode``."""
    if ended == "deadline":
        return _both(N_("stopped: still running {grace} s after its time limit ({limit} s); "
                        "the worker was terminated"), grace=f"{grace:g}", limit=f"{limit:g}")
    if ended == "memory" or exitcode in (71, -6):
        return _both(N_("stopped: the solve needed more than {mb} MB of memory"), mb=memory_mb)
    return _both(N_("worker process ended unexpectedly (exit code {code})"), code=exitcode)


def gave_up(attempts: int) -> Reason:
    """Server restarts interrupted the job ``attempts`` times; it is not started again."""
    one, many = NP_("interrupted by a server restart; gave up after {n} attempt",
                    "interrupted by a server restart; gave up after {n} attempts")
    return (translator("en").ngettext(one, many, attempts).format(n=attempts),
            translator("ja").ngettext(one, many, attempts).format(n=attempts))


def cancelled() -> Reason:
    """The centre cancelled the job."""
    return _both(N_("cancelled by the centre"))
