"""CPU per judge call with 256 calls in flight (issue 13, part b): the old way and the new.

The fake OpenAI server runs in a process of its own and answers every call after 200 ms; this
process asks from 256 threads at once, as the scoring engine's pool does at its highest
concurrency, and counts its own CPU time (``time.process_time()``: every thread, user and system)
per call, two ways:

- **old**: the judge as it was, the blocking ``openai.OpenAI`` client shared by the threads
  (``chat.completions.with_raw_response.create`` and the pydantic completion), reproduced here;
- **new**: ``judge_record`` as it is, whose calls run on one event loop per process and send with
  aiohttp (``scorecard_core/scoring/chat_http.py``).

Both render the same prompt and parse the same answer. A warm-up of 256 calls opens the
connections; then the best of ``--rounds`` rounds counts. Target: new <= 1 ms of CPU per call.

    python -m bench.scale_judge [--calls 2048] [--rounds 3] [--quick]

``lines(quick)`` returns the result lines, for bench/scale.py.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import openai

from scorecard_core.scoring import judge
from scorecard_core.scoring.judge import Judgement, prepare, response_format
from scorecard_core.scoring.judge_answer import parse_score

CONCURRENCY = 256
JUDGE_DELAY = 0.2
TARGET_CPU_MS = 1.0
# The fake's listen backlog: 256 clients connect at once in the warm-up.
BACKLOG = 1024
API_KEY = "bench"
METRIC = {
    "name": "Correct",
    "output_type": "boolean",
    "guidelines": "The answer must be correct.",
    "prompt_template": "Q: {{ inputs.question }}\nA: {{ outputs.answer }}\nIdeal: {{ expected.answer }}\nVERDICT: pass",
    "eval_model_name": "gpt-4o-mini",
    "temperature": 0,
}


@dataclass(frozen=True)
class Figures:
    cpu_ms_per_call: float
    calls_per_second: float


def _serve_fake_openai(delay: float, connection: Connection) -> None:
    from tests.fakes import loopback
    from tests.fakes.openai_server import FakeOpenAI

    loopback.LoopbackHTTPServer.request_queue_size = BACKLOG
    with FakeOpenAI(delay=delay) as fake:
        connection.send(fake.url)
        try:
            connection.recv()  # until the bench is done
        except EOFError:  # or gone
            pass


@contextmanager
def fake_openai_process(delay: float) -> Iterator[str]:
    """The fake OpenAI server in a process of its own, so its CPU is not counted; yields its URL."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_fake_openai, args=(delay, theirs), name="fake-openai", daemon=True)
    process.start()
    try:
        if not ours.poll(60):
            raise RuntimeError("the fake OpenAI server did not start within 60 s")
        yield ours.recv()
    finally:
        ours.close()
        process.join(10)
        if process.is_alive():
            process.terminate()


def record(i: int) -> dict[str, Any]:
    return {
        "inputs": {"question": f"What is {i} + {i}?"},
        "outputs": {"answer": str(2 * i)},
        "expected": {"answer": str(2 * i)},
    }


def old_way(base_url: str) -> Callable[[int], bool]:
    """The judge before: one blocking openai client shared by the threads."""
    client = openai.OpenAI(
        base_url=base_url, api_key=API_KEY, max_retries=judge.MAX_RETRIES, timeout=judge.REQUEST_TIMEOUT_SECONDS
    )

    def call(i: int) -> bool:
        judgement = prepare(METRIC, **record(i))
        assert isinstance(judgement, Judgement), judgement
        response = client.chat.completions.with_raw_response.create(
            model=judgement.model,
            temperature=judgement.temperature,
            messages=[
                {"role": "system", "content": judgement.system_prompt},
                {"role": "user", "content": judgement.prompt},
            ],
            response_format=response_format(judgement.output_type),
        )
        answer = response.parse().choices[0].message.content or ""
        return parse_score(answer, judgement.output_type)["binaryScore"] is True

    return call


def new_way(base_url: str) -> Callable[[int], bool]:
    def call(i: int) -> bool:
        result = judge.judge_record(METRIC, **record(i), base_url=base_url, api_key=API_KEY)
        assert result.score is not None, result.error
        return result.score["binaryScore"] is True

    return call


def measure(call: Callable[[int], bool], calls: int, rounds: int) -> Figures:
    """The round with the least CPU per call, after a warm-up that opens the connections."""
    best: Figures | None = None
    with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="bench-judge") as pool:
        assert all(pool.map(call, range(CONCURRENCY)))
        for _ in range(rounds):
            cpu, wall = time.process_time(), time.perf_counter()
            assert all(pool.map(call, range(calls)))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            figures = Figures(cpu / calls * 1000, calls / wall)
            if best is None or figures.cpu_ms_per_call < best.cpu_ms_per_call:
                best = figures
    assert best is not None
    return best


def lines(quick: bool, calls: int | None = None, rounds: int | None = None) -> list[str]:
    """A line per way, then their ratio and the verdict against the target."""
    calls = calls or (512 if quick else 2048)
    rounds = rounds or (1 if quick else 3)
    with fake_openai_process(JUDGE_DELAY) as base_url:
        old = measure(old_way(base_url), calls, rounds)
        new = measure(new_way(base_url), calls, rounds)
        judge.stop_loop()
    setting = f"{calls} calls, {CONCURRENCY} in flight, judge answering in {JUDGE_DELAY * 1000:.0f} ms"
    ratio = old.cpu_ms_per_call / new.cpu_ms_per_call
    verdict = "PASS" if new.cpu_ms_per_call <= TARGET_CPU_MS else "MISS"
    return [
        f"scale judge: old (blocking openai client, {CONCURRENCY} threads): {setting}: "
        f"{old.cpu_ms_per_call:.2f} ms CPU per call, {old.calls_per_second:,.0f} calls/s",
        f"scale judge: new (judge_record, one event loop per process): {setting}: "
        f"{new.cpu_ms_per_call:.2f} ms CPU per call, {new.calls_per_second:,.0f} calls/s",
        f"scale judge: CPU per call old / new {ratio:.1f}x; new {new.cpu_ms_per_call:.2f} ms "
        f"(target <= {TARGET_CPU_MS:g} ms) {verdict}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, help="judge calls per round (default 2048)")
    parser.add_argument("--rounds", type=int, help="rounds per way; the least CPU counts (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 512 calls, one round")
    args = parser.parse_args(argv)
    if args.calls is not None and args.calls < 1:
        parser.error("--calls must be at least 1")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        result = lines(args.quick, args.calls, args.rounds)
    except (RuntimeError, AssertionError, openai.OpenAIError) as exc:
        print(f"judge scale bench failed: {exc!r}", file=sys.stderr)
        return 1
    print("\n".join(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
