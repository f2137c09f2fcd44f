"""What every response of `digitlab serve` carries, and which requests it answers at all.

Three ASGI middlewares, outermost first, so that what they add reaches every answer (pages,
assets, API, and the errors of the layers inside them):

- `SecurityHeaders`: a Content-Security-Policy that lets the pages run only their own scripts
  (no inline script, nothing from elsewhere, never inside another site's frame), and
  `nosniff` / `DENY`. Files from the runs folder are anyone's HTML: they run no script at all.
- `HostCheck`: refuses a Host header that is not one of the names the server was bound to.
  A web page elsewhere can make a name of its own resolve to 127.0.0.1 (DNS rebinding) and
  then read this server as its "own" origin; its requests still carry its own name as Host.
- `CatchUnexpected`: a bug met by some input answers 500 {"error": ...}, never a traceback.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digitlab.web.settings import host_name

log = logging.getLogger(__name__)

#: the pages: their own scripts and styles only; drawings come back as data: URLs, an opened
#: picture is shown from a blob: URL
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: files under /files/ (a run's report.html, or whatever else a runs folder holds): no script
#: at all, and a sandbox, so even a hostile HTML file there cannot act as this server's origin.
#: The reports digitlab writes keep their inline <style> and their images.
FILES_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
)
FILES_PREFIX = "/files/"
#: the runs page: the same, but Plotly.js styles the charts it draws with inline styles (style
#: attributes and a <style> element of its own); scripts stay this server's own
CHARTS_POLICY = PAGE_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
CHARTS_PATHS = frozenset({"/runs"})


async def send_json_error(send: Send, status: int, message: str) -> None:
    """Answer {"error": message} with `status`, from a middleware (before the app answers)."""
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """ASGI middleware: CSP, X-Content-Type-Options and X-Frame-Options on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        policy = (
            FILES_POLICY
            if path.startswith(FILES_PREFIX)
            else CHARTS_POLICY
            if path in CHARTS_PATHS
            else PAGE_POLICY
        )
        added = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HostCheck:
    """ASGI middleware: answer 421 {"error": ...} to a Host header not in `allowed_hosts`.

    allowed_hosts: host names or addresses, IPv6 in brackets ("[::1]"); None accepts any (a
    server bound to 0.0.0.0 is meant to be reached by whatever name points at it). The port is
    not compared: a rebinding page chooses its name, not our port, so the name is what tells.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str] | None) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.allowed_hosts is None:
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        name = host_name(host)
        if name not in self.allowed_hosts:
            await send_json_error(
                send,
                421,
                f"this server answers to {', '.join(sorted(self.allowed_hosts))}, not to the "
                f"host {host!r}; open it by one of those names, or start it with "
                "`digitlab serve --allowed-host NAME`.",
            )
            return
        await self.app(scope, receive, send)


class CatchUnexpected:
    """ASGI middleware: an exception no handler turned into an answer becomes a 500 with
    {"error": ...} naming the request, and a log line with its traceback for the developer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def note_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, note_start)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            if not started:  # else the client has half an answer; closing is all that is left
                await send_json_error(
                    send,
                    500,
                    f"the server failed on {scope['method']} {scope['path']}; this is a bug in "
                    "digitlab, please report it with the input that caused it.",
                )
