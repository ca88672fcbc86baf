"""GitHub webhook acknowledgement under load, against the real server process, over HTTP on SQLite.

Starts our server (``scorecard serve``, or gunicorn with ``--server gunicorn``) on a fresh SQLite
database with a webhook secret, then 50 client threads, each with its own keep-alive
``requests.Session``, post signed deliveries for 10 s, each the next as soon as the previous is
acknowledged. Every delivery has its own ``X-GitHub-Delivery``; the payloads are GitHub's examples
(tests/fixtures/github/webhook-examples.json) that the handlers settle without calling GitHub: an
``issue_comment`` created on an issue (not a ``/scorecard run``) and a ``pull_request`` opened on
a repository no project is connected to. So the receiver is measured (signature, parsing, the
deliveries log, handing the job over) plus the background jobs that settle each delivery.

Afterwards the server's database must hold one settled row (processed or ignored) per delivery
sent; the bench waits, bounded, for the background jobs to drain. Prints one result line:
deliveries/s, p50 and p99 latency of the acknowledgement as the clients measured it, errors, and
the rows processed, with PASS/MISS for p99 < 50 ms, no errors and every delivery processed. Exits
0 whether or not the targets are met, 1 only if the server fails.

In this closed loop the latency is mostly queueing (50 requests always waiting: latency = 50 /
throughput); ``--rate`` paces the clients instead, to measure the acknowledgement below capacity.

    python -m bench.webhook [--seconds 10] [--clients 50] [--rate 0] [--client-processes 1]
                            [--server waitress|gunicorn] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench._server import bench_server
from tests.support.processes import ServerProcess, free_port

# The server's own packages (Flask, SQLAlchemy) are imported where they are used: the client
# processes (spawned) import this module and need only requests.

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_FILE = REPO_ROOT / "tests" / "fixtures" / "github" / "webhook-examples.json"
SECRET = "bench-webhook-secret"
# Nothing must reach GitHub: the handlers of these payloads make no call, and if one did it would
# be refused at once by the discard port instead of leaving the machine.
UNREACHABLE_GITHUB = "http://127.0.0.1:9"
# (event, action) of the payloads sent, in turn; see the module docstring.
CHEAP_EVENTS = (("issue_comment", "created"), ("pull_request", "opened"))
SETTLED = ("processed", "ignored")
REQUEST_TIMEOUT = 30.0
DRAIN_TIMEOUT = 60.0
TARGET_P99_MS = 50.0
GUNICORN = Path(sys.executable).with_name("gunicorn")


@dataclass(frozen=True)
class Delivery:
    event: str
    body: bytes
    signature: str


def signed(event: str, payload: dict[str, Any]) -> Delivery:
    from webhook.signatures import sign

    body = json.dumps(payload).encode()
    return Delivery(event, body, sign(SECRET, body))


def cheap_deliveries() -> tuple[Delivery, ...]:
    """The payloads sent, encoded and signed once: a delivery differs only by its ID header."""
    examples = {group["name"]: group["examples"] for group in json.loads(EXAMPLES_FILE.read_text())}
    return tuple(
        signed(event, next(p for p in examples[event] if p.get("action") == action)) for event, action in CHEAP_EVENTS
    )


# --- clients --------------------------------------------------------------------------------


@dataclass
class ClientResults:
    latencies: list[float] = field(default_factory=list)  # seconds, one per acknowledged delivery
    sent: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    finished_at: float = 0.0  # time.monotonic() of the last answer

    def add(self, other: ClientResults) -> None:
        self.latencies += other.latencies
        self.sent += other.sent
        self.errors += other.errors
        self.error_samples += other.error_samples[: 3 - len(self.error_samples)]
        self.finished_at = max(self.finished_at, other.finished_at)


def post(session: requests.Session, url: str, delivery: Delivery, delivery_id: str) -> requests.Response:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": delivery.event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": delivery.signature,
        "User-Agent": "GitHub-Hookshot/bench",
    }
    return session.post(url, data=delivery.body, headers=headers, timeout=REQUEST_TIMEOUT)


@dataclass(frozen=True)
class Plan:
    url: str
    clients: int  # in all processes
    interval: float  # seconds between one client's sends when paced; 0: as soon as acknowledged
    deliveries: tuple[Delivery, ...]
    warm_up: Delivery  # opens each client's connection before the clock starts


def client(plan: Plan, index: int, ready: threading.Barrier, window: list[float], results: ClientResults) -> None:
    """One GitHub-like sender. Paced, its sends keep to their schedule and latency runs from the
    scheduled time, so a server that falls behind is charged for the wait (no coordinated
    omission); unpaced, the next delivery goes as soon as the previous one is acknowledged."""
    with requests.Session() as session:
        try:
            post(session, plan.url, plan.warm_up, str(uuid.uuid4())).raise_for_status()
        except requests.RequestException:
            ready.abort()  # the server failed: the bench stops waiting for this client
            raise
        ready.wait()  # the process's main thread sets the window meanwhile
        ready.wait()
        start, end = window
        due = start + index * plan.interval / plan.clients  # paced clients spread over an interval
        time.sleep(max(0.0, due - time.monotonic()))
        for turn in itertools.count(index):
            if plan.interval:
                if (wait := due - time.monotonic()) > 0:  # no sleep(0): it would give the GIL away
                    time.sleep(wait)
                sent_at, due = due, due + plan.interval
            else:
                sent_at = time.monotonic()
            if sent_at >= end:
                return
            results.sent += 1
            try:
                response = post(session, plan.url, plan.deliveries[turn % len(plan.deliveries)], str(uuid.uuid4()))
                results.finished_at = time.monotonic()
                ok = response.status_code == 202 and b'"accepted"' in response.content
                problem = "" if ok else f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as exc:
                results.finished_at = time.monotonic()
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                results.errors += 1
                if len(results.error_samples) < 3:
                    results.error_samples.append(problem)
            else:
                results.latencies.append(results.finished_at - sent_at)


def client_process(plan: Plan, clients: int, first_index: int, ready: Any, go: Any, window: Any, out: Any) -> None:
    """``clients`` threads in this process; reports ready, waits for the shared window, sends."""
    barrier = threading.Barrier(clients + 1)
    times: list[float] = [0.0, 0.0]
    per_thread = [ClientResults() for _ in range(clients)]
    threads = [
        threading.Thread(target=client, args=(plan, first_index + i, barrier, times, per_thread[i]), daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()  # every connection is open
    ready.release()
    go.wait()
    times[:] = window[:]
    barrier.wait()
    for thread in threads:
        thread.join()
    total = ClientResults()
    for results in per_thread:
        total.add(results)
    out.put(total)


def drive(plan: Plan, processes: int, seconds: float) -> ClientResults:
    """Run the clients, split over ``processes`` (spawned: no threads or sockets inherited)."""
    context = multiprocessing.get_context("spawn")
    ready, go, window, out = context.Semaphore(0), context.Event(), context.Array("d", 2), context.Queue()
    shares = [plan.clients // processes + (i < plan.clients % processes) for i in range(processes)]
    workers = [
        context.Process(target=client_process, args=(plan, share, sum(shares[:i]), ready, go, window, out), daemon=True)
        for i, share in enumerate(shares)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        if not ready.acquire(timeout=60):
            raise RuntimeError("the client processes did not connect within 60 s")
    start = time.monotonic() + 0.05
    window[:] = [start, start + seconds]
    go.set()
    total = ClientResults()
    for _ in workers:
        total.add(out.get(timeout=seconds + REQUEST_TIMEOUT + 60))
    for worker in workers:
        worker.join()
    total.finished_at -= start  # from now on: seconds since the window opened
    return total


# --- the server -----------------------------------------------------------------------------


class GunicornProcess(ServerProcess):
    """``gunicorn server.wsgi:app`` with threaded workers, run and stopped as ``scorecard serve`` is."""

    def __init__(self, database_url: str, log_path: Path, env: dict[str, str], workers: int, threads: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api/v2"
        self.log_path = log_path
        command = [
            str(GUNICORN),
            "server.wsgi:app",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
        ]
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env={**os.environ, **env, "SCORECARD_DATABASE_URL": database_url},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
            )


@contextmanager
def webhook_server(kind: str, database_url: str, workdir: Path, threads: int, workers: int) -> Iterator[str]:
    env = {"SCORECARD_GITHUB_WEBHOOK_SECRET": SECRET, "SCORECARD_GITHUB_API_URL": UNREACHABLE_GITHUB}
    if kind == "waitress":
        with bench_server(database_url, threads=threads, env=env) as server:
            yield server.process.url
        return
    server = GunicornProcess(database_url, workdir / "server.log", env, workers, threads)
    try:
        server.wait_until_ready()
        yield server.url
        server.stop()  # SIGTERM: the master stops its workers (SIGKILL would orphan them)
    finally:
        server.kill()  # only if a failure left it running


def settled_counts(database_url: str, expected: int, timeout: float) -> tuple[dict[str, int], float]:
    """The deliveries' statuses once all ``expected`` have settled (or at ``timeout``), and how
    long that took."""
    from sqlalchemy import func, select

    from scorecard_core import db
    from scorecard_core.models import WebhookDelivery

    engine = db.make_engine(database_url)
    started = time.monotonic()
    try:
        while True:
            with engine.connect() as connection:
                rows = connection.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status))
                counts = {status: count for status, count in rows}
            if sum(counts.get(s, 0) for s in SETTLED) >= expected or time.monotonic() - started > timeout:
                return counts, time.monotonic() - started
            time.sleep(0.1)
    finally:
        engine.dispose()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="pace the clients to this many deliveries/s in all (default: as fast as acknowledged)",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="split the client threads over this many processes (the bench's own GIL)",
    )
    parser.add_argument(
        "--server",
        choices=("waitress", "gunicorn"),
        default="waitress",
        help="waitress: `scorecard serve`; gunicorn: `gunicorn server.wsgi:app`, gthread workers",
    )
    parser.add_argument("--threads", type=int, default=8, help="server threads (per gunicorn worker)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 s, 10 clients")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.clients = 2.0, 10
    processes = max(1, min(args.client_processes, args.clients))

    with tempfile.TemporaryDirectory(prefix="scorecard-bench-webhook-") as workdir:
        database_url = f"sqlite:///{Path(workdir) / 'scorecard.db'}"
        with webhook_server(args.server, database_url, Path(workdir), args.threads, args.workers) as url:
            plan = Plan(
                f"{url}/webhooks/github",
                args.clients,
                args.clients / args.rate if args.rate > 0 else 0.0,
                cheap_deliveries(),
                signed("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}),
            )
            results = drive(plan, processes, args.seconds)
            counts, drained = settled_counts(database_url, results.sent, DRAIN_TIMEOUT)

    latencies = sorted(results.latencies)
    p50, p99 = percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000
    rate = len(latencies) / results.finished_at if results.finished_at > 0 else 0.0
    processed = sum(counts.get(s, 0) for s in SETTLED)
    every_processed = processed == results.sent == sum(counts.values())
    others = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()) if status not in SETTLED)
    server = f"{args.server} x{args.workers}" if args.server == "gunicorn" else args.server
    pace = f"paced at {args.rate:,g}/s" if args.rate > 0 else "closed loop"
    print(
        f"webhook: {args.clients} clients x {args.seconds:g} s ({server}, {pace}, {processes} client process"
        f"{'es' if processes > 1 else ''}): {rate:,.0f} deliveries/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(target < {TARGET_P99_MS:g} ms) {verdict(p99 < TARGET_P99_MS)}; errors {results.errors} (target 0) "
        f"{verdict(results.errors == 0)}; processed {processed:,}/{results.sent:,}"
        f"{f' ({others})' if others else ''} within {drained:.1f} s after the last "
        f"(target all) {verdict(every_processed)}"
    )
    for sample in results.error_samples:
        print(f"  error: {sample}", file=sys.stderr)


if __name__ == "__main__":
    main()
