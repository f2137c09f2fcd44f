"""`digitlab serve`: the draw page and the runs page, on a local web server."""

from __future__ import annotations

import socket
from pathlib import Path

import click

from digitlab.errors import DigitlabError
from digitlab.i18n import _
from digitlab.web.settings import (
    BODY_TIMEOUT_S,
    HEADERS_TIMEOUT_S,
    KEEP_ALIVE_TIMEOUT_S,
    MAX_CONCURRENT,
    allowed_hosts_for,
)


@click.command(
    help=_(
        "Start a local web page to draw a digit on and to follow training runs.\n\n"
        "The server answers only requests addressed to the name it listens on (127.0.0.1, "
        "localhost or [::1] by default), so that no other web site can reach it through its "
        "own name (DNS rebinding); --host 0.0.0.0 answers any name. A request's headers must "
        "arrive within {headers} s, its body within {body} s and be at most 1 MiB; an idle "
        "connection is closed after {idle} s; at most {concurrent} connections are served at "
        "once."
    ).format(
        headers=HEADERS_TIMEOUT_S,
        body=BODY_TIMEOUT_S,
        idle=KEEP_ALIVE_TIMEOUT_S,
        concurrent=MAX_CONCURRENT,
    )
)
@click.option(
    "--model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=_("Model file to read drawings with  [default: the model shipped with digitlab]"),
)
@click.option(
    "--runs",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help=_("Folder of training runs to list."),
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help=_(
        "Address to listen on; 127.0.0.1 keeps the page on this computer, 0.0.0.0 opens it "
        "to other computers under any name."
    ),
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help=_(
        "Another name the page may be opened by (e.g. mybox.local for --host 192.168.1.5); "
        "repeat for more."
    ),
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help=_("Port to listen on."),
)
def serve(
    model: Path | None, runs: Path, host: str, allowed_hosts: tuple[str, ...], port: int
) -> None:
    try:
        import uvicorn

        from digitlab.web.app import create_app
    except ImportError:
        raise DigitlabError(
            _("digitlab serve needs the web extra; install it with: pip install 'digitlab[web]'")
        ) from None
    from digitlab.modelfile import load, load_default

    network = load(model) if model is not None else load_default()
    app = create_app(network, runs, allowed_hosts=allowed_hosts_for(host, allowed_hosts))
    listening = _listen(host, port)
    port = listening.getsockname()[1]  # the one the system chose, for --port 0
    click.echo(
        _("serving {model} on http://{host}:{port}/ (runs from {runs}); Ctrl+C stops").format(
            model=network, host=host, port=port, runs=runs
        )
    )
    from digitlab.web.protocol import HeaderDeadline

    config = uvicorn.Config(
        app,
        http=HeaderDeadline,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT_S,
        limit_concurrency=MAX_CONCURRENT,
    )
    uvicorn.Server(config).run(sockets=[listening])


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, so that a port in use is one clear line, not a server log."""
    listening = None
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        listening = socket.socket(family, kind, proto)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
    except OSError as exc:
        if listening is not None:
            listening.close()
        raise DigitlabError(
            _(
                "cannot listen on {host}:{port}: {reason}; choose another --port, or stop the "
                "program that uses it."
            ).format(host=host, port=port, reason=exc.strerror or exc)
        ) from None
    return listening
