"""The web server's limits and the names it answers to, in one place.

Plain Python (no FastAPI): `digitlab serve --help` states these without the web extra installed.
"""

from __future__ import annotations

import ipaddress

#: largest request body accepted: a 280x280 canvas PNG is ~20 kB; a phone photo is not a drawing
MAX_BODY_BYTES = 1 << 20
#: largest picture sent to /api/predict/picture: a phone's photo (3-8 MB as JPEG, 12 MP), and
#: decoded no larger than drawing.MAX_DRAWING_PIXELS (JPEG at 1/2, 1/4 or 1/8 scale)
MAX_PICTURE_BYTES = 16 << 20
#: seconds a request body may take to arrive in full: a drawing (~20 kB) takes milliseconds
#: even on a slow phone connection, and 1 MiB at 1 Mbit/s takes 8 s
BODY_TIMEOUT_S = 15
#: seconds a request's headers may take to arrive (a browser sends them in one packet); a
#: connection that trickles them a byte at a time is closed
HEADERS_TIMEOUT_S = 10
#: seconds an idle kept-alive connection stays open between requests
KEEP_ALIVE_TIMEOUT_S = 5
#: connections and requests served at once; past it new requests get 503 at once, so clients
#: that hold connections open cannot make the server take on work without end
MAX_CONCURRENT = 100
#: the names of this computer's loopback address, as a browser writes them in a Host header
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def host_name(host: str) -> str:
    """The name part of a Host header, lower case: "LocalHost:8000" -> "localhost",
    "[::1]:8000" -> "[::1]"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts_for(bind_host: str, extra: tuple[str, ...] = ()) -> frozenset[str] | None:
    """The Host names a server bound to `bind_host` answers to: every loopback name for a
    loopback address, the address itself otherwise, plus `extra`; None (any) for a wildcard
    address (0.0.0.0, ::), which is how one asks to be reached from other computers."""
    name = bind_host.strip().lower().strip("[]")
    if name in ("", "0.0.0.0", "::"):
        return None
    extra_names = frozenset(host_name(host) for host in extra)
    if name == "localhost":
        return LOOPBACK_HOSTS | extra_names
    try:
        address = ipaddress.ip_address(name)
    except ValueError:  # a host name, e.g. mybox.local
        return frozenset({name}) | extra_names
    own = f"[{address}]" if address.version == 6 else str(address)
    if address.is_loopback:
        return LOOPBACK_HOSTS | {own} | extra_names
    return frozenset({own}) | extra_names
