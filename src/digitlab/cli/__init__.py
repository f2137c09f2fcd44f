"""The `digitlab` command. Thin: every command calls functions of the library.

Errors digitlab raises on purpose (DigitlabError) and bad arguments become one line on stderr
and a non-zero exit code, never a traceback. The language (--lang, else the locale) is chosen
before the commands are imported, so their help texts are translated too.
"""

from __future__ import annotations

import warnings

import click

from digitlab.errors import DigitlabError
from digitlab.i18n import LANGUAGES, _, set_language

EXIT_ERROR = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    set_language(_language_argument(args))
    from digitlab.cli.app import cli  # after set_language: help texts are made at import

    # warnings as one line while the command runs, the caller's own format again after it (a
    # notebook or a test calling main() keeps its warnings as they were)
    previous = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    try:
        return _run(cli, args)
    finally:
        warnings.formatwarning = previous


def _run(cli, args: list[str]) -> int:
    """The command's exit code, with errors printed as one line each."""
    try:
        # Not standalone: click returns instead of exiting, so errors can be printed our way.
        code = cli.main(args=args, prog_name="digitlab", standalone_mode=False)
    except click.Abort:
        click.echo(_("digitlab: interrupted"), err=True)
        return 130
    except click.ClickException as exc:
        # point at the help of the command that was misused: `digitlab search --help`
        context = getattr(exc, "ctx", None)
        command = context.command_path if context is not None else "digitlab"
        click.echo(
            _("digitlab: {message} (see `{command} --help`)").format(
                message=exc.format_message(), command=command
            ),
            err=True,
        )
        return EXIT_USAGE
    except DigitlabError as exc:
        click.echo(f"digitlab: {exc}", err=True)
        return EXIT_ERROR
    return code if isinstance(code, int) else 0


def _language_argument(args: list[str]) -> str | None:
    """The value of --lang in args (None if absent or not a known language: click reports it)."""
    for i, arg in enumerate(args):
        value = None
        if arg == "--lang" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value is not None:
            return value if value in LANGUAGES else None
    return None


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return _("digitlab: warning: {message}").format(message=message) + "\n"
