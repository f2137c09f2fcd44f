"""uvicorn's HTTP/1.1 protocol with a deadline for each request's headers.

uvicorn times out a connection that sits idle after a response (keep-alive), and the body
middleware times out a body that stops arriving (limits.BodySizeLimit), but nothing times out
headers that arrive a byte at a time ("slowloris"): each byte restarts the idle timer. Here a
connection must complete a request's headers within HEADERS_TIMEOUT_S of opening, or of the
previous response, or it is closed.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

from digitlab.web.settings import HEADERS_TIMEOUT_S


class HeaderDeadline(H11Protocol):
    """H11Protocol that closes a connection whose next request's headers are not complete in
    time. A request is under way once uvicorn has made its cycle (its headers are parsed)."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(None)

    def on_response_complete(self) -> None:
        finished = self.cycle  # a pipelined request may start a new cycle in the call below
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm(finished)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self, finished) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(HEADERS_TIMEOUT_S, self._expire, finished)

    def _expire(self, finished) -> None:
        """No new request since `finished` (None: since the connection opened): close it."""
        if self.cycle is finished and not self.transport.is_closing():
            self.transport.close()
