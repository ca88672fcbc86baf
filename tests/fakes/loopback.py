"""What every fake service here shares: a threaded HTTP server on a free loopback port, run in a
daemon thread, usable as a context manager."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the default backlog of 5 drops connections under dozens of clients
    fake: Any


class KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients' connection pools expect
    timeout = 30  # idle keep-alive connections end rather than hold a thread forever
    # Headers and body go out in separate writes: with Nagle's algorithm on, the body waits for
    # the client's delayed ACK (~40 ms) on every keep-alive request.
    disable_nagle_algorithm = True
    server: LoopbackHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep test output clean


class LoopbackService:
    """Subclasses set ``handler`` and ``name``; ``started()`` runs once the port is known."""

    handler: type[KeepAliveHandler]
    name = "fake"

    _server: LoopbackHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self, port: int = 0):
        server = LoopbackHTTPServer(("127.0.0.1", port), self.handler)
        server.fake = self
        self._server = server
        self.started()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def started(self) -> None:
        """A hook for state that needs the URL."""

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()
            self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"
