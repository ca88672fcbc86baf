"""Slow clients (slowloris) against the real server: do they delay normal requests?

Starts ``scorecard serve`` on a fresh SQLite database with the connection limit given, then in each
round measures normal requests (``GET /api/v2/projects`` with an API key, each on a new connection,
one after another) three ways: alone; while 120 slow clients are held; and while slow clients fill
the server up to its connection limit (all but ``--spare`` connections). A slow client connects,
sends a request line and one header, then trickles one more header byte every ``--trickle``
seconds, never finishing its headers, as a slowloris attack does; each must still be connected
when its phase ends. The best round of each phase counts (a shared machine only ever slows a
round down).

Prints one result line: p50 and p99 of the normal requests in each phase, the worst p99 delay
against the requests alone (target < 100 ms), and the normal requests that failed or took longer
than the request timeout (target 0). Exits 0 whether or not the targets are met, 1 only if the
server fails. ``--connection-limit 100`` (waitress's own default, what ``scorecard serve`` used
before it had the flag) shows what the limit prevents: 120 slow clients then starve everyone.

    python -m bench.slowloris [--seconds 3] [--rounds 2] [--slow 120] [--connection-limit 1000] [--quick]
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

if not __package__:  # run as `python bench/slowloris.py`: import from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._server import BenchServer, ServerFailed, bench_server  # noqa: E402
from bench.webhook import percentile, verdict  # noqa: E402
from server.serving import raise_descriptor_limit  # noqa: E402

TARGET_DELAY_MS = 100.0
REQUEST_TIMEOUT = 5.0
SETTLE_SECONDS = 0.5  # for the server to accept every slow connection before the clock starts


@dataclass
class Phase:
    slow_clients: int
    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    def p(self, fraction: float) -> float:
        """Milliseconds; infinite when no request was answered (all starved)."""
        return percentile(sorted(self.latencies), fraction) * 1000 if self.latencies else float("inf")

    def describe(self) -> str:
        if not self.latencies:
            return f"no request answered within {REQUEST_TIMEOUT:g} s"
        return f"p50 {self.p(0.5):.1f} ms, p99 {self.p(0.99):.1f} ms"

    def better_than(self, other: Phase | None) -> bool:
        return other is None or (self.failures, self.p(0.99)) < (other.failures, other.p(0.99))


class SlowClients:
    """``count`` connections that never finish their headers, fed one byte at a time."""

    def __init__(self, port: int, count: int, trickle: float):
        self.trickle = trickle
        self.sockets: list[socket.socket] = []
        self.lost = 0
        self.stopping = threading.Event()
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT)
            sock.sendall(b"GET /api/v2/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            self.sockets.append(sock)
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        while not self.stopping.wait(self.trickle):
            for sock in self.sockets:
                try:
                    sock.send(b"a")
                except OSError:
                    self.lost += 1

    def close(self) -> int:
        """Closes every connection; returns how many the server had dropped meanwhile."""
        self.stopping.set()
        self.thread.join()
        for sock in self.sockets:
            sock.setblocking(False)
            try:  # a dropped connection reads as closed (b"") or reset
                if sock.recv(1) == b"":
                    self.lost += 1
            except BlockingIOError:
                pass
            except OSError:
                self.lost += 1
            sock.close()
        return self.lost


def measure(server: BenchServer, slow_clients: int, seconds: float, trickle: float) -> Phase:
    phase = Phase(slow_clients)
    slow = SlowClients(server.process.port, slow_clients, trickle) if slow_clients else None
    try:
        time.sleep(SETTLE_SECONDS if slow else 0)
        headers = {"Authorization": f"Bearer {server.api_key}"}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                answer = requests.get(f"{server.api_url}/projects", headers=headers, timeout=REQUEST_TIMEOUT)
                ok = answer.status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                phase.latencies.append(time.perf_counter() - started)
            else:
                phase.failures += 1
    finally:
        lost = slow.close() if slow else 0
    if lost:
        raise ServerFailed(f"the server dropped {lost} of {slow_clients} slow clients within the phase")
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="normal requests per phase, in seconds")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--slow", type=int, default=120, help="slow clients in the middle phase")
    parser.add_argument("--connection-limit", type=int, default=1000, help="scorecard serve --connection-limit")
    parser.add_argument(
        "--spare", type=int, default=10, help="connections left free in the last phase (the normal client needs one)"
    )
    parser.add_argument("--trickle", type=float, default=1.0, help="seconds between a slow client's bytes")
    parser.add_argument("--quick", action="store_true", help="a smoke run: limit 200, 1 s phases, one round")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.connection_limit = 1.0, 1, 200
    at_limit = args.connection_limit - args.spare
    warning = raise_descriptor_limit(at_limit)
    if warning:
        print(warning, file=sys.stderr)

    best: dict[int, Phase] = {}
    env = {"SCORECARD_CONNECTION_LIMIT": str(args.connection_limit)}
    with bench_server(env=env) as server:
        requests.get(f"{server.api_url}/projects", headers={"Authorization": f"Bearer {server.api_key}"})  # warm
        for round_number in range(args.rounds):
            for slow_clients in (0, args.slow, at_limit):
                phase = measure(server, slow_clients, args.seconds, args.trickle)
                print(
                    f"  round {round_number + 1}: {slow_clients} slow: {phase.describe()}, "
                    f"{len(phase.latencies)} ok, {phase.failures} failed",
                    file=sys.stderr,
                )
                if phase.better_than(best.get(slow_clients)):
                    best[slow_clients] = phase

    alone = best[0]
    loaded = [best[args.slow], best[at_limit]]
    delay = max(phase.p(0.99) for phase in loaded) - alone.p(0.99)
    failures = sum(phase.failures for phase in best.values())
    described = "; ".join(
        f"with {phase.slow_clients} slow clients{limit if phase.slow_clients == at_limit else ''} {phase.describe()}"
        for phase, limit in zip(loaded, ("", f" (connection limit {args.connection_limit})"))
    )
    print(
        f"slowloris: normal requests alone {alone.describe()}; {described}; "
        f"worst p99 delay {delay:.1f} ms (target < {TARGET_DELAY_MS:g} ms) {verdict(delay < TARGET_DELAY_MS)}; "
        f"failed or over {REQUEST_TIMEOUT:g} s {failures} (target 0) {verdict(failures == 0)}"
    )


if __name__ == "__main__":
    main()
