"""Messages in English or Simplified Chinese, through the standard gettext machinery.

Every string a person reads (CLI help and output, the doctor's findings) is written in English
inside `_()`; the catalogue `locale/zh/LC_MESSAGES/digitlab.mo` holds the Chinese. The language
is `set_language(lang)`'s, else the locale's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as gettext
reads them: `LANG=zh_CN.UTF-8` gives Chinese), else English.
"""

from __future__ import annotations

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
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    _language = lang
    _translation = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True
    )
    return lang


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """`message` in the current language (English where the catalogue has no entry)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)
