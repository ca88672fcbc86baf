"""The JSON shapes the /api/v2 routes answer with, as types pydantic turns into JSON Schema.

They mirror ``scorecard_core.wire`` and ``scorecard_core.report``; each class becomes a component
of the OpenAPI document under its own name, and tests/server/test_openapi.py checks real
responses against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import NotRequired, TypedDict

from scorecard_core.metrics import EVAL_TYPES, OUTPUT_TYPES
from scorecard_core.runs import SOURCES

from .runs import GitContextBody
from .testsets import FieldMapping

WireId = Annotated[str, Field(pattern="^[0-9]+$", description='a numeric ID such as "123"')]
Uuid = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
EvalType = Literal[EVAL_TYPES]  # type: ignore[valid-type]
OutputType = Literal[OUTPUT_TYPES]  # type: ignore[valid-type]
RunStatus = Literal[
    "pending",
    "awaiting_execution",
    "running_execution",
    "awaiting_scoring",
    "running_scoring",
    "awaiting_human_scoring",
    "completed",
    "error",
]


class Project(TypedDict):
    id: WireId
    name: str
    description: str


class Testset(TypedDict):
    """Fields of `jsonSchema` not named in `fieldMapping` are metadata."""

    id: WireId
    name: str
    description: str
    jsonSchema: dict[str, Any]
    fieldMapping: FieldMapping


class ValidationError(TypedDict):
    path: str
    message: str


class Testcase(TypedDict):
    """`inputs` and `expected` are the mapped parts of `jsonData`; invalid testcases are stored
    with `validationErrors`."""

    id: WireId
    testsetId: WireId
    jsonData: dict[str, Any]
    inputs: dict[str, Any]
    expected: dict[str, Any]
    validationErrors: NotRequired[list[ValidationError]]


class TestcaseList(TypedDict):
    items: list[Testcase]


class Metric(TypedDict):
    id: WireId
    name: str
    description: str | None
    evalType: EvalType
    outputType: OutputType
    guidelines: str
    passingThreshold: NotRequired[Annotated[float | None, Field(description="absent for boolean metrics")]]
    promptTemplate: NotRequired[Annotated[str, Field(description="AI metrics only")]]
    evalModelName: NotRequired[str | None]
    temperature: NotRequired[float | None]
    judgeCache: NotRequired[
        Annotated[bool, Field(description="our extension, AI metrics only: reuse the judge's answers at temperature 0")]
    ]
    heuristic: NotRequired[Annotated[dict[str, Any], Field(description="our extension: a built-in heuristic")]]


class MetricGroup(TypedDict):
    id: WireId
    projectId: WireId
    name: str
    description: str
    metricIds: list[WireId]
    createdAt: datetime
    updatedAt: datetime


class SystemVersion(TypedDict):
    id: Uuid
    systemId: Uuid
    name: str
    config: dict[str, Any]


class SystemVersionRef(TypedDict):
    id: Uuid
    name: str


class System(TypedDict):
    id: Uuid
    name: str
    description: str
    productionVersion: SystemVersion | None
    versions: list[SystemVersionRef]


class RecordCounts(TypedDict):
    created: int
    expected: int | None
    errored: Annotated[int, Field(description="records whose system call failed")]


class MetricCounts(TypedDict):
    metricId: WireId
    metricVersionId: Uuid
    name: str
    evalType: EvalType
    scored: int
    pending: int
    errored: int
    # The figures kept as scores are written (scorecard_core/scoring/figures.py).
    scoredBy: NotRequired[Literal["ai", "heuristic", "human"]]
    outputType: NotRequired[OutputType]
    passingThreshold: NotRequired[float | None]
    misfits: NotRequired[Annotated[int, Field(description="scored, but not fitting the metric: errored in figures")]]
    passed: NotRequired[Annotated[int, Field(description="fitting scores that pass")]]
    valueTotal: NotRequired[Annotated[float, Field(description="the fitting scores' values added up")]]
    causes: NotRequired[Annotated[list[str], Field(description="the first distinct error messages")]]


class StatusDetail(TypedDict):
    """Our extension: where a run stands, per metric."""

    records: RecordCounts
    metrics: list[MetricCounts]
    judgeCacheHits: NotRequired[Annotated[int, Field(description="scores the judge cache answered")]]


class Run(TypedDict):
    """Scorecard's run plus our extensions `source`, `notes`, `git`, `error`, `statusDetail`
    and the `error` status."""

    id: WireId
    projectId: WireId
    testsetId: WireId | None
    systemId: Uuid | None
    systemVersionId: Uuid | None
    metricIds: list[WireId]
    metricVersionIds: Annotated[list[Uuid], Field(description="the metric snapshots this run scores with")]
    numExpectedRecords: int | None
    numRecords: int
    numScores: int
    status: RunStatus
    source: Literal[SOURCES]  # type: ignore[valid-type]
    notes: str
    git: GitContextBody | None
    error: str | None
    statusDetail: Annotated[StatusDetail | None, Field(description="null until the run is first counted")]
    createdAt: datetime
    updatedAt: datetime


class JudgeUsage(TypedDict):
    """Tokens summed over the judge's re-asks of one score; `cached` when the judge cache answered
    (the tokens are then those the first asking paid for)."""

    model: str
    promptTokens: int
    completionTokens: int
    totalTokens: int
    cached: bool


class Score(TypedDict):
    """`score` is `{binaryScore | intScore | floatScore, reasoning?}`; one that does not fit its
    metric is stored with `validationErrors`."""

    recordId: WireId
    metricConfigId: Annotated[Uuid, Field(description="the run's metricVersionIds entry for the metric")]
    score: dict[str, Any]
    userId: str
    status: Literal["pending", "running", "scored", "error"]
    validationErrors: NotRequired[list[ValidationError]]
    error: NotRequired[str]
    usage: NotRequired[Annotated[JudgeUsage, Field(description="our extension: the judge's, for AI scores")]]


class Record(TypedDict):
    id: WireId
    runId: WireId
    testcaseId: WireId | None
    inputs: dict[str, Any]
    expected: dict[str, Any]
    outputs: dict[str, Any]
    error: Annotated[str | None, Field(description="our extension: why the system failed on this input")]
    metadata: NotRequired[
        Annotated[
            dict[str, Any],
            Field(description="our extension: what the system call reported, e.g. `model` and token `usage`"),
        ]
    ]
    durationMs: NotRequired[
        Annotated[float, Field(ge=0, description="our extension: how long the system call took, in milliseconds")]
    ]
    createdAt: datetime
    scores: NotRequired[Annotated[list[Score], Field(description="in lists of a run's records")]]


class RecordList(TypedDict):
    items: list[Record]


class ProjectRecordPage(TypedDict):
    """A page of a project's records across its runs (our extension): no `total`, which would
    cost a count of every match."""

    data: Annotated[list[Record], Field(description="newest first, each with its `runId` and `scores`")]
    nextCursor: Annotated[str | None, Field(description="pass back as `cursor` for the next page; null on the last")]
    hasMore: bool


class Success(TypedDict):
    success: bool


class Deleted(TypedDict):
    deleted: Annotated[int, Field(ge=0, le=1, description="rows removed: 0 when there was nothing to remove")]


class RecordTag(TypedDict):
    id: WireId
    recordId: WireId
    text: str
    source: Literal["user", "otel"]
    userId: Annotated[str | None, Field(description="`api-key:<prefix>` of the key that applied it")]
    createdAt: datetime


class RecordTagList(TypedDict):
    data: list[RecordTag]


class RecordAssignment(TypedDict):
    id: WireId
    recordId: WireId
    assigneeUserId: str
    assignedByUserId: Annotated[str, Field(description="`api-key:<prefix>` of the key that assigned")]
    createdAt: datetime


class RecordAssignmentList(TypedDict):
    data: list[RecordAssignment]


class Annotation(TypedDict):
    id: str
    recordId: WireId
    userId: str
    rating: bool | None
    comment: str | None
    spanId: str | None
    createdAt: datetime


class AnnotationList(TypedDict):
    data: Annotated[list[Annotation], Field(description="always empty here: annotations are made in Scorecard's app")]


Sha256 = Annotated[str, Field(pattern="^[0-9a-f]{64}$")]


class Attachment(TypedDict):
    """Describes the last committed content: `pending` (and its content fields null) until the
    first commit."""

    id: Uuid
    sessionId: str
    filePath: str
    filename: str | None
    metadata: dict[str, Any] | None
    contentType: str | None
    sha256: Sha256 | None
    sizeBytes: Annotated[int | None, Field(ge=0)]
    status: Literal["pending", "uploaded"]
    uploadedAt: datetime | None


class AttachmentDownload(Attachment):
    downloadUrl: Annotated[str | None, Field(description="GET it without an API key; null before a commit")]
    downloadExpiresAt: datetime | None


class AttachmentUpload(TypedDict):
    id: Uuid
    alreadyExists: Annotated[bool, Field(description="this content is committed already: nothing to upload")]
    uploadUrl: Annotated[str | None, Field(description="PUT the bytes here without an API key, then commit")]
    uploadMethod: Literal["PUT"] | None
    expiresAt: datetime | None


class Error(TypedDict):
    code: Annotated[str, Field(examples=["BAD_REQUEST", "UNAUTHORIZED", "NOT_FOUND"])]
    message: Annotated[str, Field(description="what went wrong and what to do")]
    details: Annotated[dict[str, Any], Field(description="e.g. the offending `field`")]


class Interval(TypedDict):
    low: float
    high: float
    level: Annotated[float, Field(description="the confidence level, e.g. 0.95")]


class TokenCount(TypedDict):
    prompt: int
    completion: int
    total: int


class LatencyPercentiles(TypedDict):
    p50: float | None
    p95: float | None
    n: Annotated[int, Field(description="records with a measured duration")]


class RunUsage(TypedDict):
    """A run's system-call latency, tokens and estimated cost."""

    latencyMs: LatencyPercentiles
    systemTokens: TokenCount
    judgeTokens: Annotated[TokenCount, Field(description="tokens the judge spent (cache hits excluded)")]
    costUsd: Annotated[float | None, Field(description="estimated at the price table; null when unknown")]
    unknownPriceModels: list[str]
    judgeCacheHits: int


class MetricSummary(TypedDict):
    metricId: WireId
    metricVersionId: Uuid
    name: str
    evalType: EvalType
    outputType: OutputType
    passingThreshold: float | None
    scored: int
    pending: int
    errored: int
    passed: int
    failedCalls: Annotated[int, Field(description="records whose system call failed: each fails this metric")]
    passRate: Annotated[
        float | None, Field(description="passed / (scored + failedCalls); null before any score or failed call")
    ]
    average: Annotated[float | None, Field(description="mean score of int and float metrics")]
    n: Annotated[int, Field(description="testcases counted in the headline (each testcase's trials are one)")]
    interval: Annotated[
        Interval | None,
        Field(description="95% interval of the headline: Wilson for a pass rate (fractions), t for a mean"),
    ]
    passRateInterval: Annotated[Interval | None, Field(description="95% Wilson interval of the pass rate")]
    trials: Annotated[int, Field(description="the most trials any testcase had")]
    passAllTrials: Annotated[
        float | None, Field(description="pass^k: share of testcases whose every trial passed (trials > 1)")
    ]
    flakyTestcaseIds: Annotated[list[str], Field(description="testcases whose trials disagree")]
    detectableChange: Annotated[
        float | None, Field(description="smallest change a same-size rerun could detect at 80% power and alpha")
    ]


class RunSummary(TypedDict):
    """Our extension: a run's pass rates and averages per metric."""

    runId: WireId
    status: RunStatus
    records: int
    failedCalls: Annotated[int, Field(description="records whose system call failed")]
    passRate: Annotated[
        float | None, Field(description="passed over scored scores and failed calls, across all metrics")
    ]
    passRateInterval: Annotated[Interval | None, Field(description="95% interval, testcases as the unit")]
    n: Annotated[int, Field(description="testcases counted")]
    alpha: float
    metrics: list[MetricSummary]
    usage: RunUsage


class MetricComparison(TypedDict):
    metricId: WireId
    name: str
    passRate: float | None
    baselinePassRate: float | None
    passRateDelta: float | None
    average: float | None
    baselineAverage: float | None
    averageDelta: float | None
    outputType: OutputType
    delta: Annotated[
        float | None, Field(description="paired change of the headline (pass rate fraction or mean), run - baseline")
    ]
    deltaInterval: Annotated[Interval | None, Field(description="interval of delta at level 1 - 2 alpha")]
    pValue: Annotated[float | None, Field(description="one-sided, in the direction of the change")]
    adjustedPValue: Annotated[float | None, Field(description="pValue after Holm's correction across metrics")]
    verdict: Literal["regressed", "improved", "unchanged"]
    margin: float
    pairs: Annotated[int, Field(description="testcases in both runs")]
    onlyInRun: int
    onlyInBaseline: int
    improvedTestcaseIds: list[str]
    regressedTestcaseIds: list[str]
    detectableChange: float | None


class UsageComparison(TypedDict):
    run: RunUsage
    baseline: RunUsage
    latencyP50MsDelta: float | None
    latencyP95MsDelta: float | None
    costUsdDelta: float | None
    totalTokensDelta: int | None


class TestcaseOutcome(TypedDict):
    testcaseId: Annotated[str, Field(description="a testcase ID, or record:<id> for a record without one")]
    metricId: WireId


class RunComparison(TypedDict):
    """Our extension: per-metric deltas and the testcases that flipped, against a baseline run."""

    runId: WireId
    baselineRunId: WireId
    alpha: float
    level: float
    passRateDelta: float | None
    metrics: list[MetricComparison]
    onlyInRunTestcaseIds: list[str]
    onlyInBaselineTestcaseIds: list[str]
    improvements: list[TestcaseOutcome]
    regressions: list[TestcaseOutcome]
    sentence: Annotated[str, Field(description="the whole comparison in one plain sentence")]
    usage: UsageComparison


class HistoryPoint(TypedDict):
    runId: WireId
    createdAt: datetime
    status: RunStatus
    value: Annotated[float | None, Field(description="pass rate for boolean metrics, the average otherwise")]
    passRate: float | None
    average: float | None
    scored: int


class MetricHistory(TypedDict):
    metricId: WireId
    name: str
    outputType: OutputType
    points: Annotated[list[HistoryPoint], Field(description="one per run, oldest first")]


class ProjectHistory(TypedDict):
    """Our extension: per metric, one point per run."""

    metrics: list[MetricHistory]
