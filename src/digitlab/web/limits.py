"""Limits on request bodies: how large, and how long they may take to arrive.

A Content-Length over the size limit is refused before anything is read. A body sent in chunks
(Transfer-Encoding: chunked, no Content-Length) is read here as it arrives, and refused as
soon as it passes the limit; a body within it is handed on whole. So no request makes the
server hold more than the limit, and the app never sees a body over it.

A client that opens a request and then sends its body slowly, or stops halfway (a half-open
connection, on purpose or not), would hold the request open for ever: the whole body must
arrive within `timeout` seconds, else the answer is 408 and the connection is closed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digitlab.i18n import _, speaking
from digitlab.web.security import send_json_error
from digitlab.web.settings import BODY_TIMEOUT_S
from digitlab.web.texts import page_language


class BodySizeLimit:
    """ASGI middleware: answer 413 with {"error": ...} to a body over `limit` bytes (or the
    limit `larger` gives the request's path), and 408 to one that has not arrived within
    `timeout` seconds."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        timeout: float = BODY_TIMEOUT_S,
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.limit)
        # refusals speak the page's language (?lang=, else the browser's), as the app does
        headers = dict(scope["headers"])
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
        language = page_language(asked, headers.get(b"accept-language", b"").decode("latin-1"))
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send, int(declared), limit, language)
            return
        try:
            body = await self._read_body(receive, send, limit, language)
        except asyncio.TimeoutError:  # TimeoutError itself from Python 3.11 on
            with speaking(language):
                message = _("the request body did not arrive within {seconds:g} s; send it again.")
            await send_json_error(send, 408, message.format(seconds=self.timeout))
            return
        if body is None:  # refused, or the client went away
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:  # after the body, wait for what the server says next (a disconnect)
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read_body(
        self, receive: Receive, send: Send, limit: int, language: str
    ) -> bytes | None:
        """The whole body; None when it went over the limit (answered 413) or the client left.
        Raises asyncio.TimeoutError when it has not all arrived within self.timeout."""
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            if message["type"] != "http.request":  # the client went away
                return None
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > limit:
                await self._refuse(send, received, limit, language)
                return None
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, send: Send, size: int, limit: int, language: str) -> None:
        # `size` is what was declared, or what had arrived when the limit was passed
        with speaking(language):
            message = _(
                "the request body is over the limit of {limit:,} bytes ({size:,} or more); "
                "send a smaller image."
            )
        await send_json_error(send, 413, message.format(limit=limit, size=size))
