"""Extracting, merging and compiling the catalogue with Babel's API (a development tool: Babel
is a test extra, not a dependency of digitlab)."""

from __future__ import annotations

import io
import string
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE_DIR = Path(__file__).resolve().parents[1]
LOCALE_DIR = Path(__file__).resolve().parent
DOMAIN = "digitlab"
PO_PATH = LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO_PATH = PO_PATH.with_suffix(".mo")
#: the markers: gettext's `_`, `N_` (translated later) and `ngettext` (Babel's defaults)
KEYWORDS = DEFAULT_KEYWORDS


def extract() -> Catalog:
    """Every marked string of the package's Python files, as a template catalogue."""
    template = Catalog(project="digitlab", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE_DIR), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read_catalog(path: Path = PO_PATH) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale="zh_CN", domain=DOMAIN)


def update(path: Path = PO_PATH) -> list[str]:
    """Merge the package's strings into the .po (new ones untranslated, vanished ones dropped);
    returns the msgids that still need a translation."""
    template = extract()
    catalog = read_catalog(path) if path.exists() else Catalog(locale="zh_CN", domain=DOMAIN)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.project, catalog.version = "digitlab", ""
    catalog.header_comment = (
        "# Simplified Chinese messages of digitlab.\n"
        "# Source of digitlab.mo: edit here, then run `python -m digitlab.locale compile`."
    )
    catalog.last_translator = catalog.language_team = "digitlab developers"
    catalog.msgid_bugs_address = ""
    catalog.fuzzy = False
    with path.open("wb") as file:
        write_po(file, catalog, width=100, include_lineno=False, sort_by_file=True)
    return missing(catalog)


def compile_mo(path: Path = PO_PATH, out: Path = MO_PATH) -> None:
    """Write the .mo gettext reads from the .po."""
    out.write_bytes(compiled(read_catalog(path)))


def compiled(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def missing(catalog: Catalog) -> list[str]:
    """The msgids with no translation, a fuzzy one, or different {placeholders}."""
    out = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        if (
            message.fuzzy
            or not all(strings)
            or not all(placeholders(s) == placeholders(ids[0]) for s in strings)
        ):
            out.append(ids[0])
    return out


def placeholders(text: str) -> set[str]:
    """The names of the str.format fields in text ({ratio:.2g} -> "ratio")."""
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:  # not a format string (a literal brace): compare the text's braces
        return {text.count("{"), text.count("}")}  # type: ignore[return-value]
