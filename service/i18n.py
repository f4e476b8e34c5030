"""Messages in the user's language, from gettext catalogues.

Every message a person reads on the command line (help, table headers, progress lines, notes)
and the HTTP service's problem details are written in English in the code, marked with
``_()``, and translated in ``service/locale/ja/LC_MESSAGES/dxshare.po``. Japanese is the
default; ``--lang en`` or ``DXSHARE_LANG=en`` (or ``Accept-Language: en`` for the service)
gives English.

The catalogue is kept with Babel::

    pybabel extract -F babel.cfg -k NC_:1c,2 -k NP_:1,2 -o service/locale/dxshare.pot .
    pybabel update -i service/locale/dxshare.pot -d service/locale -D dxshare
    pybabel compile -d service/locale -D dxshare

and the compiled ``.mo`` ships inside the package; ``tests/test_i18n.py`` fails when a message
has no Japanese translation or the ``.mo`` is older than the ``.po``.

Examples
--------
>>> translator("ja").gettext("expert")
'専門家'
"""

from __future__ import annotations

import argparse
import contextlib
import gettext
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

__all__ = ["DOMAIN", "LOCALE_DIR", "NC_", "NP_", "N_", "current_lang", "lang_from", "ngettext", "set_lang",
           "translator", "using_lang"]

DOMAIN = "dxshare"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGS = ("ja", "en")


@lru_cache(maxsize=4)
def translator(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang`` (``'ja'``); English is the messages as written."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True)


def lang_from(value: str | None = None) -> str:
    """``'en'`` for an English choice (``en``, ``en_US.UTF-8``, ``English``), else ``'ja'``;
    without a choice, ``DXSHARE_LANG``, then Japanese."""
    text = (value or os.environ.get("DXSHARE_LANG") or "ja").strip().lower()
    return "en" if text.startswith("en") else "ja"


_lang = "ja"


def set_lang(lang: str) -> None:
    """Use ``lang`` for ``_()`` in this process, argparse's own words included (the command
    line is one process, one reader)."""
    global _lang
    _lang = lang_from(lang)
    t = translator(_lang)
    argparse._ = t.gettext            # type: ignore[attr-defined]  # argparse looks `_` up per call
    argparse.ngettext = t.ngettext    # type: ignore[attr-defined]


def current_lang() -> str:
    return _lang


@contextlib.contextmanager
def using_lang(lang: str | None) -> Iterator[str]:
    """``lang`` (``lang_from``) for the block, the language before it restored after: a
    command run from a notebook or a test leaves the caller's language as it was."""
    before = _lang
    set_lang(lang_from(lang))
    try:
        yield _lang
    finally:
        set_lang(before)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translator(_lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the count ``n`` in the current language (English: the
    singular for 1, else the plural; Japanese has one form). Format ``n`` in afterwards."""
    return translator(_lang).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the usual gettext name for "mark, translate later"
    """Mark ``message`` for the catalogue without translating it now."""
    return message


def NC_(context: str, message: str) -> str:  # noqa: N802 - as N_, with a context
    """Mark ``message`` for the catalogue under ``context`` (one English word, two meanings:
    translate with ``translator(lang).pgettext(context, message)``)."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - as N_, with a count
    """Mark a message's two English forms for the catalogue without translating them now
    (translate with ``translator(lang).ngettext(singular, plural, n)``)."""
    return singular, plural


# argparse's own words, so that ``dxshare --help`` is Japanese throughout.
_ARGPARSE = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("the following arguments are required: %s"), N_("%(prog)s: error: %(message)s\n"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("unrecognized arguments: %s"), N_("expected one argument"),
    N_("invalid %(type)s value: %(value)r"), N_("argument %(argument_name)s: %(message)s"),
)
