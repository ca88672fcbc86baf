"""Traces and monitors: OTLP span ingestion, then one monitor cycle over the spans received.

Starts `scorecard serve` as its own process on a fresh SQLite database and:

(a) **ingest**: sends ``--spans`` spans (default 100,000) to ``POST /otel/v1/traces`` as binary
    protobuf ``ExportTraceServiceRequest``s of ``--batch`` spans (default 512) from ``--clients``
    concurrent exporters (default 4), each with a keep-alive HTTP session and the API key as a
    Bearer token. Each trace is an HTTP server span with a GenAI chat span under it (the model,
    prompt messages and completion choices as JSON text, token usage), as Scorecard's Python SDK
    sends them. Every request body is serialized before the clock starts, so the rate is the
    server's; every answer is decoded and must reject nothing. Afterwards the spans stored are
    counted in the database.
(b) **monitor cycle**: another project receives ``--monitor-spans`` chat spans (default 10,000,
    each in a trace with its HTTP parent; sent before (a), they warm the server up). A monitor
    judging "Is the answer helpful?" (``PUT /projects/{id}/monitors``) samples them in one
    cycle run now through ``POST /monitors/{id}/run`` over the last hour, as a user would ask
    for it, timed from request to answer at a sample rate of 100% (every candidate becomes a
    record of one run: the worst case) and at 10%; the server's CPU time for it is read from
    /proc. Each of ``--rounds`` cycles (default 3) is a new monitor's, so each samples every
    span afresh; the fastest counts (a shared machine only ever slows a round down).

The server runs with scoring off: scoring the sampled records is the scoring bench's figure, and
here it would compete with the cycle being timed. Prints one line per figure; exits 0 whether or
not a target is met, 1 only if the server fails.

    python -m bench.traces [--spans 100000] [--clients 4] [--batch 512] [--monitor-spans 10000]
                            [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from sqlalchemy import func, select

from bench._server import BenchServer, ServerFailed, bench_server
from bench.ingest import verdict
from scorecard_core import db
from scorecard_core.client import ApiError
from scorecard_core.models import Span as SpanRow
from scorecard_core.models import table_of

TARGET_SPANS_PER_SECOND = 5_000
TARGET_CYCLE_SECONDS = 2.0
SAMPLE_RATES = (100, 10)
METRIC = "Is the answer helpful?"
LOOKBACK_MINUTES = 60
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku")
TOPICS = ("refund policy", "shipping times", "password reset", "invoice copy", "plan upgrade", "data export")


def _any_value(value: Any) -> AnyValue:
    if isinstance(value, int):
        return AnyValue(int_value=value)
    return AnyValue(string_value=str(value))


def _key_values(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=_any_value(value)) for key, value in attributes.items()]


def _chat_attributes(n: int) -> dict[str, Any]:
    """A chat completion as wrap_openai records it: the messages and answer as JSON text, the model, token usage."""
    topic = TOPICS[n % len(TOPICS)]
    question = f"Hi, I am customer {n} and I have a question about the {topic}: what do I need to do, and how long does it take?"
    answer = (
        f"Thanks for asking about the {topic}. Open your account settings, choose the {topic} section and follow "
        f"the steps there; it usually takes one to three business days. Reference number {n:08d}."
    )
    model = MODELS[n % len(MODELS)]
    messages = [
        {"role": "system", "content": "You are a helpful support assistant for an online shop. Answer briefly."},
        {"role": "user", "content": question},
    ]
    choices = [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}]
    return {
        "gen_ai.system": "openai",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.response.model": f"{model}-2024-07-18",
        "gen_ai.request.temperature": "0.2",
        "gen_ai.prompt.messages": json.dumps(messages),
        "gen_ai.completion.choices": json.dumps(choices),
        "gen_ai.usage.prompt_tokens": 60 + n % 40,
        "gen_ai.usage.completion_tokens": 45 + n % 30,
    }


def trace_spans(n: int, start_nano: int) -> tuple[Span, Span]:
    """Trace ``n``: the application's HTTP request and the chat completion it made."""
    trace_id = secrets.token_bytes(16)
    parent_id, child_id = secrets.token_bytes(8), secrets.token_bytes(8)
    start = start_nano + n * 1_000_000
    ok = Status(code=Status.STATUS_CODE_OK)
    http = Span(
        trace_id=trace_id,
        span_id=parent_id,
        name="POST /chat",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=start,
        end_time_unix_nano=start + 900_000_000,
        attributes=_key_values(
            {
                "http.request.method": "POST",
                "http.route": "/chat",
                "http.response.status_code": 200,
                "url.path": "/chat",
            }
        ),
        status=ok,
    )
    chat = Span(
        trace_id=trace_id,
        span_id=child_id,
        parent_span_id=parent_id,
        name="openai.chat.completions.create",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start + 20_000_000,
        end_time_unix_nano=start + 850_000_000,
        attributes=_key_values(_chat_attributes(n)),
        status=ok,
    )
    return http, chat


def export_bodies(project_id: str, spans: int, batch: int) -> list[tuple[bytes, int]]:
    """Serialized export requests holding ``spans`` spans (two per trace), ``batch`` a request."""
    start_nano = time.time_ns()
    flat = [span for n in range((spans + 1) // 2) for span in trace_spans(n, start_nano)][:spans]
    resource = _key_values(
        {"service.name": "support-bot", "service.version": "1.4.2", "scorecard.project_id": project_id}
    )
    bodies = []
    for first in range(0, spans, batch):
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.extend(resource)
        scope = resource_spans.scope_spans.add()
        scope.scope.name = "scorecard-ai"
        scope.spans.extend(flat[first : first + batch])
        bodies.append((request.SerializeToString(), len(scope.spans)))
    return bodies


def export(server: BenchServer, bodies: list[tuple[bytes, int]], clients: int) -> float:
    """Send the bodies from ``clients`` exporters in parallel; seconds taken."""
    url = server.api_url.removesuffix("/api/v2") + "/otel/v1/traces"
    headers = {"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/x-protobuf"}

    def exporter(worker: int) -> None:
        with requests.Session() as http:
            for body, size in bodies[worker::clients]:
                answer = http.post(url, data=body, headers=headers, timeout=120)
                if answer.status_code != 200:
                    raise ServerFailed(f"an export of {size} spans answered {answer.status_code}: {answer.text[:300]}")
                partial = ExportTraceServiceResponse.FromString(answer.content).partial_success
                if partial.rejected_spans:
                    raise ServerFailed(f"{partial.rejected_spans} of {size} spans rejected: {partial.error_message}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(exporter, range(clients)))
    return time.perf_counter() - started


def stored_spans(database_url: str, project_id: str) -> int:
    """The project's spans, counted in the server's database."""
    spans = table_of(SpanRow)
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).where(spans.c.project_id == int(project_id))).scalar_one()
    finally:
        engine.dispose()


@dataclass
class TimedCycle:
    seconds: float
    server_cpu_seconds: float
    candidates: int
    sampled: int


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far, user and system."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_cycle(server: BenchServer, project_id: str, sample_rate: int, description: str) -> TimedCycle:
    """A new monitor at ``sample_rate``, and one cycle of it run now over the last hour's spans
    through ``POST /monitors/{id}/run``, timed from request to answer."""
    client = server.client()
    body = {"description": description, "metrics": [METRIC], "sampleRate": sample_rate, "frequencyMinutes": 60}
    monitor_id = client.put(f"/projects/{project_id}/monitors", body)["id"]
    started, cpu_started = time.perf_counter(), cpu_seconds(server.pid)
    cycle = client.post(f"/monitors/{monitor_id}/run", {"lookbackMinutes": LOOKBACK_MINUTES})["cycle"]
    elapsed = time.perf_counter() - started
    return TimedCycle(elapsed, cpu_seconds(server.pid) - cpu_started, cycle["candidates"], cycle["sampled"])


def best_cycle(server: BenchServer, project_id: str, sample_rate: int, rounds: int) -> str:
    """The best of ``rounds`` cycles, each a new monitor's (so each samples every span afresh);
    its result line."""
    timed = []
    for round_number in range(1, rounds + 1):
        timed.append(timed_cycle(server, project_id, sample_rate, f"bench at {sample_rate}%, round {round_number}"))
        print(
            f"  cycle at {sample_rate}%, round {round_number}: {timed[-1].seconds:.2f} s "
            f"({timed[-1].server_cpu_seconds:.2f} s server CPU), {timed[-1].sampled:,} sampled",
            file=sys.stderr,
            flush=True,
        )
    best = min(timed, key=lambda cycle: cycle.seconds)
    return (
        f"traces: monitor cycle at {sample_rate}%: {best.candidates:,} candidate spans, {best.sampled:,} sampled "
        f"into a run in {best.seconds:.2f} s ({best.server_cpu_seconds:.2f} s server CPU; best of {rounds}) "
        f"(target < {TARGET_CYCLE_SECONDS:.0f} s) {verdict(best.seconds < TARGET_CYCLE_SECONDS)}"
    )


def timed_ingest(server: BenchServer, database_url: str, project_id: str, args: argparse.Namespace) -> str:
    """``--spans`` spans exported to the project, then counted in the database; the result line."""
    bodies = export_bodies(project_id, args.spans, args.batch)
    print(f"  built {len(bodies)} requests of {args.spans:,} spans; exporting", file=sys.stderr, flush=True)
    cpu_started = cpu_seconds(server.pid)
    elapsed = export(server, bodies, args.clients)
    cpu_per_span = (cpu_seconds(server.pid) - cpu_started) / args.spans
    stored = stored_spans(database_url, project_id)
    if stored != args.spans:
        raise ServerFailed(f"{stored:,} spans stored after {args.spans:,} were acknowledged")
    rate = args.spans / elapsed
    return (
        f"traces: OTLP ingest {args.spans:,} spans ({args.batch} a request, {args.clients} clients, protobuf "
        f"serialized beforehand) in {elapsed:.1f} s: {rate:,.0f} spans/s, server CPU {cpu_per_span * 1e6:.0f} us "
        f"a span (target >= {TARGET_SPANS_PER_SECOND:,} on SQLite) {verdict(rate >= TARGET_SPANS_PER_SECOND)}; "
        f"{stored:,} stored"
    )


def new_project(server: BenchServer, name: str) -> str:
    return server.client().post("/projects", {"name": name, "description": "bench/traces.py"})["id"]


def measure(args: argparse.Namespace) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="scorecard-bench-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'scorecard.db'}"
        db.upgrade(url)
        with bench_server(database_url=url, env={"SCORECARD_SCORING_ENABLED": "false"}) as server:
            monitored = new_project(server, "monitored service")
            ingest = new_project(server, "traces bench")
            print(f"  sending {2 * args.monitor_spans:,} spans for the monitor", file=sys.stderr, flush=True)
            export(server, export_bodies(monitored, 2 * args.monitor_spans, args.batch), args.clients)
            lines = [timed_ingest(server, url, ingest, args)]
            lines += [best_cycle(server, monitored, sample_rate, args.rounds) for sample_rate in SAMPLE_RATES]
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=100_000, help="spans to ingest (default 100,000)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent exporters (default 4)")
    parser.add_argument("--batch", type=int, default=512, help="spans per export request (default 512)")
    parser.add_argument(
        "--monitor-spans", type=int, default=10_000, help="chat spans the monitor's cycle samples (default 10,000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="cycles per sample rate; the fastest counts (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 spans, 500 for the monitor, one round")
    args = parser.parse_args(argv)
    if args.quick:
        args.spans, args.monitor_spans, args.rounds = 2_000, 500, 1
    for name in ("spans", "clients", "batch", "monitor_spans", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        lines = measure(args)
    except (RuntimeError, ApiError, requests.RequestException) as exc:
        print(f"traces: server failed: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
