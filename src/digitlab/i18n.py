"""Messages in English or Simplified Chinese, through the standard gettext machinery.

Every string a person reads (CLI help and output, the doctor's findings) is written in English
inside `_()`; the catalogue `locale/zh/LC_MESSAGES/digitlab.mo` holds the Chinese. The language
is `set_language(lang)`'s, else the locale's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as gettext
reads them: `LANG=zh_CN.UTF-8` gives Chinese), else English.

Strings that are translated later, in a language chosen then (the doctor's findings, rendered in
the language of their report), are marked with `N_()` where they are written and translated with
`translate(message, lang)`, which leaves the global language alone. The catalogue's source is
`locale/zh/LC_MESSAGES/digitlab.po`; `python -m digitlab.locale` (with Babel installed) extracts
every `_()`/`N_()` string of the package into it and compiles the `.mo` (see digitlab.locale).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
import os
from collections.abc import Iterator
from pathlib import Path

from digitlab.errors import ConfigError

DOMAIN = "digitlab"
LANGUAGES = ("en", "zh")
LOCALE_DIR = Path(__file__).parent / "locale"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"
#: the language of the code running in this context (a web request's page), over the global one
_speaking: contextvars.ContextVar[str | None] = contextvars.ContextVar("speaking", default=None)


def language_from_environment() -> str:
    """ "zh" when the locale variables ask for Chinese first, else "en"."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            first = value.split(":")[0].lower()
            return "zh" if first.startswith("zh") else "en"
    return "en"


def set_language(lang: str | None = None) -> str:
    """Use `lang` ("en" or "zh"; None: from the environment) from now on; returns it."""
    global _translation, _language
    lang = lang or language_from_environment()
    _translation = translation(lang)
    _language = lang
    return lang


@functools.cache
def translation(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang` ("en" or "zh"), without making it the current language."""
    if lang not in LANGUAGES:
        raise ConfigError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}; use en or zh.")
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True)


def translate(message: str, lang: str | None = None) -> str:
    """`message` in `lang` (None: the current language), leaving the current language as it is."""
    return (_current() if lang is None else translation(lang)).gettext(message)


def N_(message: str) -> str:  # gettext's conventional name for the marker
    """Mark `message` for the catalogue without translating it now (see `translate`)."""
    return message


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[str]:
    """Inside, `_()` speaks `lang` in this thread or task only (a web request answered in its
    page's language while other requests, and the global language, stay as they are)."""
    translation(lang)  # an unknown language fails here, before anything is said in it
    token = _speaking.set(lang)
    try:
        yield lang
    finally:
        _speaking.reset(token)


def current_language() -> str:
    return _speaking.get() or _language


def _current() -> gettext.NullTranslations:
    lang = _speaking.get()
    return _translation if lang is None else translation(lang)


def _(message: str) -> str:
    """`message` in the current language (English where the catalogue has no entry)."""
    return _current().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current().ngettext(singular, plural, n)
