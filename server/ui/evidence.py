"""How sure a run's figures are, for its page: each metric's headline with its 95% interval, the
paired comparison with a baseline run (the one ``?baseline=`` names, else the latest earlier
completed run of the same testset), and latency, tokens and cost beside the baseline's.

Every figure is worded by ``scorecard_core.wording``, so the page says exactly what the PR
comment says. Everything here is plain text; the template escapes it (metric names and testcase
IDs are user data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from scorecard_core import report_queries, wording
from scorecard_core.comparison import DEFAULT_ALPHA, compare_summaries
from scorecard_core.ids import parse_id
from scorecard_core.markdown import baseline_label
from scorecard_core.models import Project, Run
from scorecard_core.report import MetricSummary, RunSummary
from scorecard_core.run_status import RunStatus
from scorecard_core.usage import RunUsage, compare_usage
from scorecard_core.usage_queries import usage_of_run

from ..settings import current_settings

ALPHA = DEFAULT_ALPHA  # the significance level of verdicts and planning figures, as the API's default
LISTED_TESTCASES = 10  # flaky or unpaired testcases named before "and N more"
BASELINE_CHOICES = 50  # runs offered under "Compare with"


@dataclass(frozen=True)
class Listed:
    """Testcase IDs, the first few named and the rest counted."""

    shown: list[str]
    more: int

    @property
    def count(self) -> int:
        return len(self.shown) + self.more

    @classmethod
    def of(cls, ids: list[str]) -> Listed:
        return cls(ids[:LISTED_TESTCASES], max(0, len(ids) - LISTED_TESTCASES))


@dataclass(frozen=True)
class MetricFigures:
    summary: MetricSummary
    result: str  # the headline with its interval (and pass^k with trials), as the PR comment words it
    testcases: int
    flaky: Listed
    detectable: str  # the smallest change this run could detect


@dataclass(frozen=True)
class ComparedMetric:
    name: str
    verdict: str  # regressed | improved | unchanged
    change: str
    pairs: int
    only_in_run: int
    only_in_baseline: int


@dataclass(frozen=True)
class UsageRow:
    label: str
    now: str
    baseline: str | None = None
    change: str | None = None


@dataclass(frozen=True)
class BaselineChoice:
    run: Run | None
    problem: str | None  # why ``?baseline=`` was not used
    picked: bool  # named by ``?baseline=`` rather than found


@dataclass(frozen=True)
class Comparison:
    baseline: Run
    picked: bool
    sentence: str
    metrics: list[ComparedMetric]
    level_note: str
    only_in_run: Listed
    only_in_baseline: Listed


@dataclass(frozen=True)
class Evidence:
    overall: str
    testcases: int
    metrics: list[MetricFigures]
    comparison: Comparison | None
    baseline_problem: str | None
    choices: list[Run]
    usage: list[UsageRow]
    usage_reported: bool
    alpha: float = ALPHA


def evidence(session: Session, project: Project, run: Run, summary: RunSummary, raw_baseline: str | None) -> Evidence:
    choice = choose_baseline(session, project, run, raw_baseline)
    comparison = comparison_body = None
    baseline_usage = None
    if choice.run is not None:
        base_summary = report_queries.summarize(session, choice.run)
        comparison, comparison_body = compare_runs(summary, choice.run, base_summary, choice.picked)
        baseline_usage = run_usage(session, choice.run)
    by_metric = {m["metricId"]: m for m in (comparison_body or {}).get("metrics", [])}
    overall = summary.pass_rate_estimate
    usage = run_usage(session, run)
    return Evidence(
        overall=wording.rate_with_interval(summary.pass_rate, overall),
        testcases=overall.n if overall else 0,
        metrics=[_figures(m, by_metric.get(m.metric_id)) for m in summary.metrics],
        comparison=comparison,
        baseline_problem=choice.problem,
        choices=_choices(session, run, choice.run),
        usage=usage_rows(usage, baseline_usage),
        usage_reported=bool(wording.usage(usage) or (baseline_usage and wording.usage(baseline_usage))),
    )


def choose_baseline(session: Session, project: Project, run: Run, raw: str | None) -> BaselineChoice:
    """The run named by ``raw`` when it is another run of this project; otherwise the latest
    earlier completed run of the same testset, with what was wrong with ``raw``."""
    problem = None
    if raw:
        number = parse_id(raw.strip())
        named = session.get(Run, number) if number is not None else None
        if number is None:
            problem = f"“{raw}” is not a run ID: the baseline must be a run's number."
        elif named is None or named.project_id != project.id:
            problem = f"Run {number} is not a run of this project."
        elif named.id == run.id:
            problem = "A run cannot be its own baseline."
        else:
            return BaselineChoice(named, None, picked=True)
        problem += " Pick a run under “Compare with”; shown instead: the latest earlier completed run, if any."
    earlier = (
        select(Run)
        .where(
            Run.project_id == project.id,
            col(Run.testset_id) == run.testset_id,
            Run.status == RunStatus.COMPLETED.value,
            col(Run.id) < run.id,
        )
        .order_by(col(Run.id).desc())
        .limit(1)
    )
    return BaselineChoice(session.exec(earlier).first(), problem, picked=False)


def _choices(session: Session, run: Run, baseline: Run | None) -> list[Run]:
    """Other runs of the same testset, newest first, and the baseline shown even if not among them."""
    others = (
        select(Run)
        .where(Run.project_id == run.project_id, col(Run.testset_id) == run.testset_id, col(Run.id) != run.id)
        .order_by(col(Run.id).desc())
        .limit(BASELINE_CHOICES)
    )
    found = list(session.exec(others))
    if baseline is not None and all(r.id != baseline.id for r in found):
        found.insert(0, baseline)
    return found


def _figures(metric: MetricSummary, compared: dict[str, Any] | None) -> MetricFigures:
    headline = metric.headline_estimate
    planning = compared["detectableChange"] if compared else metric.detectable_change(ALPHA)
    return MetricFigures(
        summary=metric,
        result=wording.metric_result(metric),
        testcases=headline.n if headline else 0,
        flaky=Listed.of(metric.flaky_testcase_ids),
        detectable=wording.detectable(metric, planning),
    )


def compare_runs(
    summary: RunSummary, baseline: Run, base_summary: RunSummary, picked: bool
) -> tuple[Comparison, dict[str, Any]]:
    """``summary``'s run against ``baseline``: the worded comparison and the wire body it words
    (whose per-testcase changes the compare page lists)."""
    label = baseline_label({"id": baseline.id, "git": baseline.git})
    body = compare_summaries(summary, base_summary, ALPHA, baseline_label=label)
    return _comparison(baseline, picked, body), body


def _comparison(baseline: Run, picked: bool, body: dict[str, Any]) -> Comparison:
    return Comparison(
        baseline=baseline,
        picked=picked,
        sentence=body["sentence"],
        metrics=[
            ComparedMetric(
                name=m["name"],
                verdict=m["verdict"],
                change=wording.change(m),
                pairs=m["pairs"],
                only_in_run=m["onlyInRun"],
                only_in_baseline=m["onlyInBaseline"],
            )
            for m in body["metrics"]
        ],
        level_note=wording.levels_note(body),
        only_in_run=Listed.of(body["onlyInRunTestcaseIds"]),
        only_in_baseline=Listed.of(body["onlyInBaselineTestcaseIds"]),
    )


def run_usage(session: Session, run: Run) -> RunUsage:
    return usage_of_run(session, run, current_settings().model_prices)


def usage_rows(now: RunUsage, base: RunUsage | None) -> list[UsageRow]:
    """Latency, tokens, cost and cache hits, each beside the baseline's and the change when compared."""
    changes = compare_usage(now, base) if base is not None else {}

    def row(label: str, figure: Any, change_key: str | None = None, signed: Any = None) -> UsageRow:
        change = changes.get(change_key) if change_key else None
        return UsageRow(
            label,
            figure(now),
            figure(base) if base is not None else None,
            signed(change) if change is not None else None,
        )

    return [
        row("Latency p50", lambda u: _latency(u.latency_p50_ms), "latencyP50MsDelta", _signed_latency),
        row("Latency p95", lambda u: _latency(u.latency_p95_ms), "latencyP95MsDelta", _signed_latency),
        row("System tokens", lambda u: f"{u.system_tokens.total:,}"),
        row("Judge tokens", lambda u: f"{u.judge_tokens.total:,}"),
        row(
            "Tokens in all", lambda u: f"{u.system_tokens.total + u.judge_tokens.total:,}", "totalTokensDelta", _signed
        ),
        row("Estimated cost", wording.cost, "costUsdDelta", _signed_dollars),
        row("Judge cache hits", lambda u: f"{u.judge_cache_hits:,}"),
    ]


def _latency(milliseconds: float | None) -> str:
    return "—" if milliseconds is None else wording.seconds(milliseconds)


def _sign(value: float) -> str:
    return "-" if value < 0 else "+"


def _signed_latency(milliseconds: float) -> str:
    return _sign(milliseconds) + wording.seconds(abs(milliseconds))


def _signed(count: int) -> str:
    return f"{count:+,}"


def _signed_dollars(dollars: float) -> str:
    size = abs(dollars)
    return _sign(dollars) + (f"${size:.4f}" if size < 0.01 else f"${size:,.2f}")
