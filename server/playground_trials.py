"""Playground trials: a prompt tried on a few testcases, kept in this server's memory only.

A trial is not a run: nothing of it reaches the database or the run history, so trying a prompt
costs no more than its model calls, and a restart forgets it. The store is bounded (the newest
`MAX_TRIALS` trials, the oldest dropped) and each trial belongs to the signed-in session that
started it: its random id alone reaches it from no other session.

A trial's calls run on a background thread in an asyncio loop of its own, at most `CONCURRENCY`
at once; each case is scored as soon as its call ends, on a thread pool of the same size (the
judge is blocking). Re-scoring with changed metrics keeps the outputs and scores again only what
changed; a result computed for a config that has since changed is dropped.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from runner.systems import System, SystemCall
from scorecard_core.errors import ScorecardError
from scorecard_core.scoring.one_record import Scored

log = logging.getLogger(__name__)

MAX_TRIALS = 20
MAX_CASES = 50
CONCURRENCY = 10
CALL_TIMEOUT_SECONDS = 120.0
MAX_OUTPUT_CHARS = 20_000

# score(metric_config, inputs=, outputs=, expected=) -> Scored, blocking (the judge's HTTP call).
Scorer = Callable[..., Scored]


@dataclass(frozen=True)
class TrialMetric:
    id: str
    name: str
    output_type: str
    passing_threshold: float | None
    config: dict[str, Any]  # the metric version's config, with the guidelines as edited


@dataclass
class Case:
    label: str
    inputs: dict[str, Any]
    expected: dict[str, Any]
    testcase_id: str | None = None
    called: bool = False
    outputs: dict[str, Any] | None = None
    outputs_cut: bool = False
    error: str | None = None
    seconds: float | None = None
    scores: dict[str, Scored] = field(default_factory=dict)  # by metric id; absent while pending
    claimed: set[str] = field(default_factory=set)  # config keys being scored now

    @property
    def scorable(self) -> bool:
        return self.called and self.error is None


def config_key(metric: TrialMetric) -> str:
    return metric.id + json.dumps(metric.config, sort_keys=True, default=str)


class Trial:
    """One playground trial; every field a view reads is read through `snapshot()`."""

    def __init__(
        self, owner: str, project_id: int, form: dict[str, Any], cases: list[Case], metrics: list[TrialMetric]
    ):
        self.id = secrets.token_urlsafe(16)
        self.owner = owner
        self.project_id = project_id
        self.form = form  # what the playground's form held, to show it again
        self._cases = cases
        self._metrics = metrics
        self._lock = threading.Lock()
        self.dropped = threading.Event()

    # -- reading -------------------------------------------------------------------------------

    def snapshot(self) -> tuple[list[Case], list[TrialMetric], bool]:
        """The cases, the metrics, and whether every call and score is done."""
        with self._lock:
            cases = copy.deepcopy(self._cases)
            metrics = list(self._metrics)
        done = all(c.called and (not c.scorable or all(m.id in c.scores for m in metrics)) for c in cases)
        return cases, metrics, done

    @property
    def metrics(self) -> list[TrialMetric]:
        with self._lock:
            return list(self._metrics)

    def inputs(self, index: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._cases[index].inputs)

    # -- changing (from the trial's threads, and re-scoring from a request) ---------------------

    def record_call(self, index: int, call: SystemCall) -> None:
        outputs, cut = call.outputs, False
        if outputs is not None:
            text = json.dumps(outputs, ensure_ascii=False, default=str)
            if len(text) > MAX_OUTPUT_CHARS:  # the store is bounded: a huge answer is kept cut short
                outputs, cut = {"response": text[:MAX_OUTPUT_CHARS]}, True
        with self._lock:
            case = self._cases[index]
            case.called, case.outputs, case.outputs_cut = True, outputs, cut
            case.error, case.seconds = call.error, call.seconds

    def give_up(self, error: str) -> None:
        """Whatever is not done yet ends with ``error``, so the page stops waiting for it."""
        with self._lock:
            for case in self._cases:
                if not case.called:
                    case.called, case.error, case.seconds = True, error, 0.0
                elif case.scorable:
                    for metric in self._metrics:
                        case.scores.setdefault(metric.id, Scored(None, error))

    def claim(self, index: int) -> tuple[Case, list[TrialMetric]]:
        """The case and the metrics it still needs scored that nobody is scoring now."""
        with self._lock:
            case = self._cases[index]
            if not case.scorable:
                return case, []
            wanted = [m for m in self._metrics if m.id not in case.scores and config_key(m) not in case.claimed]
            case.claimed.update(config_key(m) for m in wanted)
            return copy.deepcopy(case), wanted

    def record_score(self, index: int, metric: TrialMetric, scored: Scored) -> None:
        with self._lock:
            case = self._cases[index]
            case.claimed.discard(config_key(metric))
            if metric in self._metrics:  # else its config changed while it was judged: drop it
                case.scores[metric.id] = scored

    def change_metrics(self, metrics: list[TrialMetric]) -> None:
        """Score with these metrics from now on; scores of a metric whose config is unchanged stay."""
        with self._lock:
            kept = {m.id for m in metrics if m in self._metrics}
            self._metrics = list(metrics)
            for case in self._cases:
                case.scores = {mid: s for mid, s in case.scores.items() if mid in kept}

    @property
    def case_count(self) -> int:
        return len(self._cases)


class TrialStore:
    """The newest `limit` trials of this server; adding one more drops (and stops) the oldest."""

    def __init__(self, limit: int = MAX_TRIALS):
        self._limit = limit
        self._trials: OrderedDict[str, Trial] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, trial: Trial) -> None:
        with self._lock:
            self._trials[trial.id] = trial
            while len(self._trials) > self._limit:
                _, oldest = self._trials.popitem(last=False)
                oldest.dropped.set()

    def get(self, trial_id: str, owner: str, project_id: int) -> Trial | None:
        with self._lock:
            trial = self._trials.get(trial_id)
        if trial is None or trial.owner != owner or trial.project_id != project_id:
            return None
        return trial


# -- execution ----------------------------------------------------------------------------------


def start_run(trial: Trial, system: System, score: Scorer) -> None:
    """Call the system on every case and score each as its call ends, in the background."""
    _in_background(trial, _run(trial, system, score))


def start_scoring(trial: Trial, score: Scorer) -> None:
    """Score again what the changed metrics need, keeping the outputs."""
    _in_background(trial, _score_all(trial, score))


def _in_background(trial: Trial, work: Coroutine[Any, Any, None]) -> None:
    def run() -> None:
        try:
            asyncio.run(work)
        except Exception as exc:  # a bug here must not leave the page polling forever
            log.exception("playground trial %s failed", trial.id)
            trial.give_up(f"the playground failed: {exc}")

    threading.Thread(target=run, name=f"playground-{trial.id[:8]}", daemon=True).start()


async def _run(trial: Trial, system: System, score: Scorer) -> None:
    try:
        await system.start()
    except ScorecardError as exc:  # no API key, a system that cannot start: every card says why
        trial.give_up(exc.message)
        return
    try:
        with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="playground-score") as pool:
            await asyncio.gather(
                *(_call_and_score(trial, system, index, pool, score) for index in range(trial.case_count))
            )
    finally:
        await system.close()


async def _call_and_score(trial: Trial, system: System, index: int, pool: ThreadPoolExecutor, score: Scorer) -> None:
    if trial.dropped.is_set():
        return
    trial.record_call(index, await system.call(trial.inputs(index), None, CALL_TIMEOUT_SECONDS))
    await _score_case(trial, index, pool, score)


async def _score_all(trial: Trial, score: Scorer) -> None:
    with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="playground-score") as pool:
        await asyncio.gather(*(_score_case(trial, index, pool, score) for index in range(trial.case_count)))


async def _score_case(trial: Trial, index: int, pool: ThreadPoolExecutor, score: Scorer) -> None:
    if trial.dropped.is_set():
        return
    case, metrics = trial.claim(index)
    loop = asyncio.get_running_loop()

    async def one(metric: TrialMetric) -> None:
        scored = await loop.run_in_executor(
            pool, lambda: score(metric.config, inputs=case.inputs, outputs=case.outputs, expected=case.expected)
        )
        trial.record_score(index, metric, scored)

    await asyncio.gather(*(one(metric) for metric in metrics))
