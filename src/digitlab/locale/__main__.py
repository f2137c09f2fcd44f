"""python -m digitlab.locale update | compile | check (see digitlab.locale)."""

from __future__ import annotations

import sys

from digitlab.locale.catalog import MO_PATH, PO_PATH, compile_mo, missing, read_catalog, update


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    if command == "update":
        todo = update()
        print(f"updated {PO_PATH}: {len(todo)} strings to translate")
        for message in todo:
            print(f"  {message!r}")
        return 0
    if command == "compile":
        compile_mo()
        print(f"wrote {MO_PATH}")
        return 0
    if command == "check":
        todo = missing(read_catalog())
        for message in todo:
            print(f"untranslated: {message!r}")
        return 1 if todo else 0
    print("usage: python -m digitlab.locale update|compile|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
