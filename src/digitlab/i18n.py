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

import functools
import gettext
import os
from pathlib import Path

DOMAIN = "digitlab"
LANGUAGES = ("en", "zh")
LOCALE_DIR = Path(__file__).parent / "locale"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


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
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True)


def translate(message: str, lang: str | None = None) -> str:
    """`message` in `lang` (None: the current language), leaving the current language as it is."""
    return (_translation if lang is None else translation(lang)).gettext(message)


def N_(message: str) -> str:  # gettext's conventional name for the marker
    """Mark `message` for the catalogue without translating it now (see `translate`)."""
    return message


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """`message` in the current language (English where the catalogue has no entry)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)
