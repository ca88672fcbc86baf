"""``scorecard serve``: the app under waitress, refusing what it must before reading it.

Waitress reads a request's whole body (up to ``max_request_body_size``) in its I/O thread before it
calls the app, so the app's own limits come too late: the request guard's rules
(``server.request_guard``) run in waitress's request parser instead, as soon as the headers are in.
A refused request is answered and its connection closed without reading the body; a chunked body
is refused as soon as it grows past its path's limit.

Slow clients cost waitress one connection each and no thread (headers are parsed in the I/O
thread), so the defence against many of them is a connection limit well above what normal clients
use; past it waitress stops accepting until connections close or time out.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

import waitress
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import MultiSocketServer
from waitress.utilities import Error as WaitressError

from .request_guard import Refusal, body_limit, parser_error, refusal, too_large

# Descriptors besides the connections: listening sockets, the trigger, the database, log files.
SPARE_DESCRIPTORS = 64
REQUEST_LINE_BYTES = 8192


class RefusedRequest:
    """A refusal in the shape waitress's error task answers with (status, headers, body)."""

    def __init__(self, refused: Refusal):
        self.refused = refused

    def to_response(self, _ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        return self.refused.status_line, self.refused.headers(), self.refused.body


class GuardedParser(HTTPRequestParser):
    max_body_bytes: int  # set per server by guarded_channel()
    body_limit_bytes = 0

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        self.body_limit_bytes = body_limit(self.path, self.max_body_bytes)
        has_body = self.chunked or self.content_length > 0
        refused = refusal(
            self.path, self.headers, None if self.chunked else self.content_length, has_body, self.max_body_bytes
        )
        if refused is not None:
            self._refuse(refused)

    def _refuse(self, refused: Refusal) -> None:
        self.error = RefusedRequest(refused)
        self.body_rcv = None
        self.content_length = 0
        self.expect_continue = False
        self.connection_close = True
        self.completed = True

    def received(self, data: bytes) -> int:
        # The request line, while the headers are still coming: waitress forgets the path when
        # it refuses headers that grew too large.
        start = (self.header_plus or data)[:REQUEST_LINE_BYTES] if self.body_rcv is None else b""
        consumed = super().received(data)
        if isinstance(self.error, WaitressError):
            path = self.path if self.headers_finished else _request_path(start)
            self.error = RefusedRequest(_parser_refusal(self.error, path))
        if self.error is None and self.chunked and self.body_rcv is not None:
            if len(self.body_rcv) > self.body_limit_bytes:
                self._refuse(too_large(self.path, self.body_limit_bytes))
        if isinstance(self.error, RefusedRequest):
            # The rest of what was read belongs to the refused body: never parse it as a request.
            return len(data)
        return consumed


def _request_path(start: bytes) -> str:
    target = start.lstrip().split(b"\r\n", 1)[0].split(b" ")[1:2]
    return target[0].decode("latin-1") if target else "/"


def _parser_refusal(error: WaitressError, path: str) -> Refusal:
    messages = {
        431: f"The request's headers are larger than the server accepts ({error.body} bytes); send fewer or smaller "
        "headers (large cookies for this host?)",
        413: f"The request body is larger than the server accepts ({error.body} bytes)",
    }
    message = messages.get(error.code, f"The request could not be read: {error.body}")
    return parser_error(path, error.code, error.reason, message)


def guarded_channel(max_body_bytes: int) -> type[HTTPChannel]:
    parser = type("GuardedParser", (GuardedParser,), {"max_body_bytes": max_body_bytes})
    return type("GuardedChannel", (HTTPChannel,), {"parser_class": parser})


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    threads: int
    connection_limit: int
    channel_timeout: int


def raise_descriptor_limit(connections: int) -> str | None:
    """Lets the process hold ``connections`` sockets; a warning if the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + SPARE_DESCRIPTORS
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return None
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    if raised < wanted:
        return (
            f"warning: the open-files limit ({hard}) is below what --connection-limit {connections} needs "
            f"({wanted}); raise it (ulimit -n) or lower the connection limit"
        )
    return None


def create_server(app, options: ServeOptions, max_body_bytes: int):
    """A waitress server (not yet running) for ``app`` with the request guard in its parser."""
    server = waitress.create_server(
        app,
        host=options.host,
        port=options.port,
        threads=options.threads,
        ident="scorecard",
        # waitress counts its listening socket and wake-up pipe among the connections.
        connection_limit=options.connection_limit + 2,
        channel_timeout=options.channel_timeout,
        cleanup_interval=max(1, min(30, options.channel_timeout // 2)),
        # select() cannot watch more than 1,024 sockets; poll() has no such limit.
        asyncore_use_poll=True,
        # A backstop only: the guard refuses every body above its path's limit first.
        max_request_body_size=2 * body_limit("/webhooks/", max_body_bytes),
    )
    channel = guarded_channel(max_body_bytes)
    listeners = (
        [s for s in server.map.values() if hasattr(s, "channel_class")]
        if isinstance(server, MultiSocketServer)
        else [server]
    )
    for listener in listeners:
        listener.channel_class = channel
    return server
