"""The Action's runner end to end against the official SDK, over HTTP on SQLite.

Starts `scorecard serve` as its own process with a fresh SQLite database and seeds a project with
a testset of 1,000 testcases and one heuristic metric, then measures:
(a) our runner: ``python -m runner`` as a child process with the environment the Action sets,
    calling a Python function that sleeps 50 ms, concurrency 32, not waiting for scores. Wall
    time from start to exit against the ideal (cases x 50 ms / concurrency); target ratio <= 1.15.
(b) the official SDK's ``run_and_evaluate`` on the same server with the same function, timed
    (``--sdk-cases N`` times N cases and extrapolates linearly); target: our runner >= 20x faster.
(c) per-record overhead: the runner with a function that answers at once, on 200 and 2,000
    testcases; the slope between the two is the cost per record, start-up excluded; target < 1 ms.
Runner timings are the best of ``--rounds`` (a shared machine only ever slows a round down); the
SDK runs once. Every run is left to be scored before the next one starts, so each timing begins on
a quiet server. Prints one result line (per-round figures go to stderr); exits 0 whether or not the
targets are met, 1 only if the server or the runner fails.

    python -m bench.runner [--cases 1000] [--sdk-cases 1000] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from scorecard_ai import APIError, Scorecard
from scorecard_ai.lib import run_and_evaluate

from bench._server import BenchServer, bench_server
from scorecard_core.client import ApiError

REPO_ROOT = Path(__file__).resolve().parents[1]
SYSTEM_DELAY = 0.05
CONCURRENCY = 32
RUNNER_TIMEOUT = 600
SETTLE_TIMEOUT = 120
SETTLED = ("completed", "error")
EXECUTION_LINE = re.compile(r"uploaded their records in ([0-9.]+) s")
TARGET_RATIO = 1.15
TARGET_SPEEDUP = 20.0
TARGET_OVERHEAD_MS = 1.0
# The user's system, written into a temporary directory and imported from there: by the runner's
# worker (in its own process, as the Action does) and by this process for the SDK.
SYSTEM_MODULE = "bench_system"
SYSTEM_SOURCE = f"""\
import time


def sleepy(inputs, system_config=None):
    time.sleep({SYSTEM_DELAY})
    return {{"answer": "answer to " + inputs["question"]}}


def instant(inputs, system_config=None):
    return {{"answer": "answer to " + inputs["question"]}}
"""
SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question", "answer"],
}
METRIC = {
    "name": "Exact answer",
    "evalType": "heuristic",
    "outputType": "boolean",
    "guidelines": "",
    "heuristic": {"type": "exact_match", "outputField": "answer", "expectedField": "answer"},
}


class BenchFailed(RuntimeError):
    """The runner or the SDK did not finish its run correctly."""


@dataclass
class Project:
    """A project with one metric and a testset per size asked for (made on first use)."""

    server: BenchServer
    project_id: str
    metric_id: str
    testsets: dict[int, str] = field(default_factory=dict)

    @classmethod
    def seed(cls, server: BenchServer) -> Project:
        client = server.client()
        project = client.post("/projects", {"name": "runner bench", "description": "bench/runner.py"})
        metric = client.post(f"/projects/{project['id']}/metrics", METRIC)
        return cls(server, str(project["id"]), str(metric["id"]))

    def testset(self, cases: int) -> str:
        if cases not in self.testsets:
            client = self.server.client()
            testset = client.post(
                f"/projects/{self.project_id}/testsets",
                {
                    "name": f"{cases} questions",
                    "jsonSchema": SCHEMA,
                    "fieldMapping": {"inputs": ["question"], "expected": ["answer"]},
                },
            )
            for start in range(0, cases, 100):
                items = [
                    {"jsonData": {"question": f"q{i}", "answer": f"answer to q{i}"}}
                    for i in range(start, min(start + 100, cases))
                ]
                client.post(f"/testsets/{testset['id']}/testcases", {"items": items})
            self.testsets[cases] = str(testset["id"])
        return self.testsets[cases]

    def settle_latest_run(self, cases: int, who: str) -> None:
        """Wait until the newest run is scored, so that the next timing starts on a quiet server,
        and check that it holds one record per testcase."""
        client = self.server.client()
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while (run := client.get(f"/projects/{self.project_id}/runs", limit=1)["data"][0])["status"] not in SETTLED:
            if time.monotonic() > deadline:
                raise BenchFailed(f"{who}: run {run['id']} still {run['status']} after {SETTLE_TIMEOUT} s")
            time.sleep(0.05)
        if run["numRecords"] != cases:
            raise BenchFailed(f"{who}: run {run['id']} holds {run['numRecords']} records, expected {cases}")


def runner_seconds(project: Project, cases: int, function: str, system_dir: Path) -> tuple[float, float]:
    """Wall time of ``python -m runner`` from start to exit, configured as the Action configures it,
    and of its execution phase alone (first system call to last record uploaded, as it reports)."""
    server = project.server
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SCORECARD_"))},
        "SCORECARD_API_URL": server.api_url,
        "SCORECARD_API_KEY": server.api_key,
        "SCORECARD_PROJECT_ID": project.project_id,
        "SCORECARD_TESTSET_ID": project.testset(cases),
        "SCORECARD_METRIC_IDS": project.metric_id,
        "SCORECARD_SYSTEM": f"{SYSTEM_MODULE}:{function}",
        "SCORECARD_PYTHON": sys.executable,
        "SCORECARD_WORKING_DIRECTORY": str(system_dir),
        "SCORECARD_CONCURRENCY": str(CONCURRENCY),
        "SCORECARD_WAIT_FOR_SCORES": "false",
        "SCORECARD_COMMENT": "false",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "runner"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUNNER_TIMEOUT,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchFailed(f"the runner exited with {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    project.settle_latest_run(cases, "runner")
    reported = EXECUTION_LINE.search(done.stdout)
    if reported is None:
        raise BenchFailed(f"the runner did not report its execution time:\n{done.stdout[-2000:]}")
    return elapsed, float(reported.group(1))


def sdk_seconds(project: Project, cases: int, system: Callable[..., dict[str, Any]]) -> float:
    """Wall time of the SDK's ``run_and_evaluate`` over a testset of ``cases``."""
    server = project.server
    sdk = Scorecard(api_key=server.api_key, base_url=server.api_url, max_retries=0)
    testset_id = project.testset(cases)
    started = time.perf_counter()
    run_and_evaluate(
        sdk, project_id=project.project_id, metric_ids=[project.metric_id], testset_id=testset_id, system=system
    )
    elapsed = time.perf_counter() - started
    project.settle_latest_run(cases, "SDK")
    return elapsed


def write_system(directory: Path) -> Callable[..., dict[str, Any]]:
    """Write the system module and import its 50 ms function for the SDK."""
    path = directory / f"{SYSTEM_MODULE}.py"
    path.write_text(SYSTEM_SOURCE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(SYSTEM_MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sleepy


@dataclass
class Figures:
    cases: int
    runner: float  # the whole process, start to exit
    execution: float  # its execution phase: calls and uploads
    sdk: float
    sdk_cases: int
    overhead_ms: float

    def line(self) -> str:
        ideal = self.cases * SYSTEM_DELAY / CONCURRENCY
        ratio = self.execution / ideal
        speedup = self.sdk / self.runner
        sdk_note = "" if self.sdk_cases == self.cases else f" (extrapolated from {self.sdk_cases} cases)"
        return (
            f"runner: {self.cases} cases x {SYSTEM_DELAY * 1000:.0f} ms @{CONCURRENCY}: calls and uploads "
            f"{self.execution:.2f} s vs ideal {ideal:.2f} s (ratio {ratio:.2f}, target <= {TARGET_RATIO}) "
            f"{verdict(ratio <= TARGET_RATIO)}, whole process with start-up and testcase fetch {self.runner:.2f} s "
            f"(ratio {self.runner / ideal:.2f}); "
            f"SDK run_and_evaluate {self.sdk:.1f} s{sdk_note} ({speedup:.0f}x slower, target >= "
            f"{TARGET_SPEEDUP:.0f}x) {verdict(speedup >= TARGET_SPEEDUP)}; per-record overhead "
            f"{self.overhead_ms:.2f} ms (target < {TARGET_OVERHEAD_MS:.0f} ms) {verdict(self.overhead_ms < TARGET_OVERHEAD_MS)}"
        )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def measure(
    args: argparse.Namespace, project: Project, system_dir: Path, system: Callable[..., dict[str, Any]]
) -> Figures:
    small, big = args.overhead_cases
    # Warm-up: the first run pays for cold caches in both processes.
    runner_seconds(project, small, "instant", system_dir)
    sleepy_runs, small_runs, big_runs = [], [], []
    for round_number in range(1, args.rounds + 1):
        sleepy_runs.append(runner_seconds(project, args.cases, "sleepy", system_dir))
        small_runs.append(runner_seconds(project, small, "instant", system_dir)[0])
        big_runs.append(runner_seconds(project, big, "instant", system_dir)[0])
        print(
            f"  round {round_number}: runner {args.cases} x {SYSTEM_DELAY * 1000:.0f} ms {sleepy_runs[-1][0]:.2f} s "
            f"(execution {sleepy_runs[-1][1]:.2f} s); "
            f"instant {small} cases {small_runs[-1]:.2f} s, {big} cases {big_runs[-1]:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    sdk = sdk_seconds(project, args.sdk_cases, system)
    print(f"  SDK run_and_evaluate: {args.sdk_cases} cases in {sdk:.1f} s", file=sys.stderr, flush=True)
    overhead = (min(big_runs) - min(small_runs)) / (big - small)
    best = min(sleepy_runs)
    return Figures(args.cases, best[0], best[1], sdk * args.cases / args.sdk_cases, args.sdk_cases, overhead * 1000)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="testcases for (a) and (b) (default 1,000)")
    parser.add_argument(
        "--sdk-cases",
        type=int,
        default=None,
        help="cases the SDK runs; fewer than --cases are extrapolated linearly (default: all)",
    )
    parser.add_argument(
        "--overhead-cases",
        type=int,
        nargs=2,
        default=(200, 2000),
        metavar=("SMALL", "BIG"),
        help="testcase counts for the per-record overhead slope (default 200 2000)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="runner rounds; the best of each counts (default 3)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 320 cases, SDK on 20, overhead 50 vs 500, one round"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.cases, args.sdk_cases, args.overhead_cases, args.rounds = 320, 20, (50, 500), 1
    if args.sdk_cases is None:
        args.sdk_cases = args.cases
    if min(args.cases, args.sdk_cases, args.rounds, *args.overhead_cases) < 1:
        parser.error("--cases, --sdk-cases, --overhead-cases and --rounds must be at least 1")
    if args.sdk_cases > args.cases:
        parser.error("--sdk-cases cannot be more than --cases")
    if args.overhead_cases[0] >= args.overhead_cases[1]:
        parser.error("--overhead-cases needs SMALL < BIG")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with bench_server() as server, tempfile.TemporaryDirectory(prefix="scorecard-bench-system-") as system_dir:
            system = write_system(Path(system_dir))
            figures = measure(args, Project.seed(server), Path(system_dir), system)
    except (RuntimeError, ApiError, APIError, requests.RequestException, subprocess.TimeoutExpired) as exc:
        print(f"runner bench failed: {exc}", file=sys.stderr)
        return 1
    print(figures.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
