"""SQLModel tables for the data model: projects, testsets, metrics, systems, runs, records, scores.

IDs follow Scorecard's wire format: integers (serialised as numeric strings) for projects,
testsets, testcases, metrics, runs and records; UUID strings for systems, system versions and
metric versions. Every schema change goes through an Alembic migration (``migrations/``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    false,
    inspect,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_uuid() -> str:
    return str(uuid.uuid4())


def json_column(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JsonType, nullable=nullable))


class UtcDateTime(TypeDecorator):
    """A UTC timestamp that reads back time-zone aware on every engine (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def timestamp() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


# Integer IDs are 64-bit: BIGINT on PostgreSQL. SQLite's INTEGER already holds 64 bits, and only
# an INTEGER PRIMARY KEY is the rowid alias that autoincrements, so SQLite keeps that spelling.
IdType = BigInteger().with_variant(Integer(), "sqlite")


def id_primary_key() -> Any:
    """The autoincrementing 64-bit primary key of every table with integer IDs."""
    return Field(default=None, sa_column=Column(IdType, primary_key=True))


def id_reference(nullable: bool = True, index: bool = False) -> Any:
    """A column holding another table's integer ID without a foreign key (64-bit like the key)."""
    return Field(default=None, sa_column=Column(IdType, nullable=nullable, index=index))


def parent(
    table: str, ondelete: str = "CASCADE", nullable: bool = False, type_: Any = IdType, index: bool = True
) -> Any:
    """A reference to the parent row; ``index=False`` where a composite index leads with it."""
    return Field(
        default=None,
        sa_column=Column(type_, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=index),
    )


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _Stored) -> int:
    """The ID of a row the database holds (loaded, or added and flushed). Models type their
    integer IDs optional only because a row has none until its first flush."""
    assert row.id is not None, f"{type(row).__name__} has no ID yet: it was never flushed"
    return row.id


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for Core statements: SQLModel declares no ``__table__``
    for type checkers."""
    table = inspect(model).local_table
    assert isinstance(table, Table), f"{model.__name__} is not a table model"
    return table


class Project(SQLModel, table=True):
    id: int | None = id_primary_key()
    name: str = ""
    description: str = ""
    created_at: datetime = timestamp()


class Testset(SQLModel, table=True):
    __test__ = False
    id: int | None = id_primary_key()
    project_id: int = parent("project")
    name: str
    description: str = ""
    json_schema: dict = json_column()
    field_mapping: dict = json_column()
    created_at: datetime = timestamp()


class Testcase(SQLModel, table=True):
    __test__ = False
    id: int | None = id_primary_key()
    testset_id: int = parent("testset")
    json_data: dict = json_column()
    validation_errors: list | None = json_column(nullable=True)
    created_at: datetime = timestamp()


class Metric(SQLModel, table=True):
    id: int | None = id_primary_key()
    project_id: int = parent("project")
    name: str
    description: str | None = None
    eval_type: str
    output_type: str
    guidelines: str = ""
    prompt_template: str | None = None
    eval_model_name: str | None = None
    temperature: float | None = None
    passing_threshold: float | None = None
    # Our extension: which built-in heuristic scores this metric, and how (see scoring/).
    heuristic: dict | None = json_column(nullable=True)
    # Our extension: reuse a stored judgement when the same one is asked again (judge_cache.py);
    # it applies only at temperature 0.
    judge_cache: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class MetricVersion(SQLModel, table=True):
    """An immutable snapshot of a metric's configuration, taken when a run uses it."""

    __tablename__ = "metric_version"
    __table_args__ = (UniqueConstraint("metric_id", "config_hash"),)
    id: str = Field(default_factory=new_uuid, primary_key=True)
    # Not a foreign key: runs keep their snapshot when the metric itself is deleted.
    metric_id: int = id_reference(nullable=False, index=True)
    config_hash: str
    config: dict = json_column()
    created_at: datetime = timestamp()


class MetricGroup(SQLModel, table=True):
    __tablename__ = "metric_group"
    id: int | None = id_primary_key()
    project_id: int = parent("project")
    name: str
    description: str = ""
    metric_ids: list = json_column()
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class System(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: str = Field(default_factory=new_uuid, primary_key=True)
    project_id: int = parent("project")
    name: str
    description: str = ""
    production_version_id: str | None = None
    created_at: datetime = timestamp()


class SystemVersion(SQLModel, table=True):
    __tablename__ = "system_version"
    __table_args__ = (UniqueConstraint("system_id", "config_hash"),)
    id: str = Field(default_factory=new_uuid, primary_key=True)
    system_id: str = parent("system", type_=String)
    name: str
    config_hash: str
    config: dict = json_column()
    created_at: datetime = timestamp()


class Run(SQLModel, table=True):
    id: int | None = id_primary_key()
    project_id: int = parent("project")
    testset_id: int | None = parent("testset", ondelete="SET NULL", nullable=True)
    system_id: str | None = None
    system_version_id: str | None = None
    metric_ids: list = json_column()
    metric_version_ids: list = json_column()
    num_expected_records: int | None = None
    num_records: int = 0
    num_scores: int = 0
    status: str = "awaiting_execution"
    source: str = "api"
    notes: str = ""
    git: dict | None = json_column(nullable=True)
    error: str | None = None
    # Per-metric scored / pending / errored counts and records created / expected.
    status_detail: dict | None = json_column(nullable=True)
    # A run this server executes (a kickoff) is leased to one process while it calls the system,
    # renewed as it goes: another process, or a restarted one, takes it over once this lapses.
    execution_lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class Record(SQLModel, table=True):
    # ix_record_created_at_id pages a project's records newest first (records_search.py);
    # ix_record_run_id_id pages one run's records in ID order without reading other runs'.
    __table_args__ = (
        UniqueConstraint("run_id", "idempotency_key"),
        Index("ix_record_created_at_id", "created_at", "id"),
        Index("ix_record_run_id_id", "run_id", "id"),
    )
    id: int | None = id_primary_key()
    run_id: int = parent("run", index=False)
    testcase_id: int | None = id_reference(index=True)
    inputs: dict = json_column()
    expected: dict = json_column()
    outputs: dict = json_column()
    error: str | None = None
    idempotency_key: str | None = None
    # Finds the records of a trace whose spans carry scorecard.otel_link_id (the Traces pages).
    otel_link_id: str | None = Field(default=None, index=True)
    session_id: str | None = None
    # What the system call reported besides its outputs (token usage, model): the column is
    # `metadata`, a name SQLAlchemy keeps for itself on the class.
    call_metadata: dict | None = Field(
        default=None, sa_column=Column("metadata", JsonType, key="call_metadata", nullable=True)
    )
    # How long the system call took, measured by whoever made it (the runner, a server run).
    duration_ms: float | None = None
    created_at: datetime = timestamp()


class Score(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("record_id", "metric_version_id"),
        Index("ix_score_run_status", "run_id", "status"),
        Index("ix_score_claim", "status", "scored_by"),
    )
    id: int | None = id_primary_key()
    run_id: int = parent("run")
    record_id: int = parent("record")
    metric_version_id: str
    # ai | heuristic | human (see scoring.lifecycle.scored_by): lets the scoring engine claim
    # its work without a join.
    scored_by: str = Field(default="human", sa_column_kwargs={"server_default": "human"})
    # pending -> running (claimed until lease_until) -> scored | error. Human scores stay
    # pending until someone enters them.
    status: str = "pending"
    lease_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    # Claims so far: a score whose every claim ended without a stored result (the process died,
    # the result could not be stored) becomes an error after SCORECARD_SCORING_MAX_ATTEMPTS.
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    score: dict | None = json_column(nullable=True)
    error: str | None = None
    user_id: str = "background-job"
    validation_errors: list | None = json_column(nullable=True)
    # The judge's token usage and model ({"model", "promptTokens", "completionTokens",
    # "totalTokens", "cached"}); "cached" when the judgement came from the judge cache.
    usage: dict | None = json_column(nullable=True)
    # Set by a re-score asked `fresh`: the judge is asked again even if the judge cache holds
    # the judgement (and the entry is replaced).
    fresh: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: int | None = id_primary_key()
    name: str
    prefix: str
    key_hash: str = Field(unique=True, index=True)
    created_at: datetime = timestamp()
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class WebSession(SQLModel, table=True):
    """A browser signed in to the web UI with an API key (see web_sessions.py). Only a hash of
    the cookie's token is stored; deleting the row ends the session."""

    __tablename__ = "web_session"
    id: int | None = id_primary_key()
    token_hash: str = Field(unique=True, index=True)
    api_key_id: int = parent("api_key")
    created_at: datetime = timestamp()
    last_seen_at: datetime = timestamp()


class GitHubConnection(SQLModel, table=True):
    """How a project reaches its GitHub repository: which workflow to dispatch, which triggers
    are on, and how to authenticate. Secrets (token, App private key) are never returned by the
    API nor logged."""

    __tablename__ = "github_connection"
    id: int | None = id_primary_key()
    project_id: int = Field(
        sa_column=Column(IdType, ForeignKey("project.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    repo: str
    branch: str = "main"
    workflow: str = "scorecard-eval.yml"
    event_type: str = "start-evaluation"
    # workflow_dispatch (learns the Actions run URL at once) or repository_dispatch.
    dispatch: str = "workflow_dispatch"
    on_kickoff: bool = True
    on_pull_request: bool = False
    on_merge: bool = False
    # What PR- and merge-triggered evaluations run, and the commit status thresholds.
    testset_id: int | None = id_reference()
    metric_ids: list = json_column()
    system_version_id: str | None = None
    fail_under: str = ""
    # The rest of the commit status's gate (gate.GatePolicy): the same rule as the Action's inputs.
    fail_under_mode: str = Field(default="point", sa_column_kwargs={"server_default": "point"})
    fail_on_regression: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    regression_margin: str | None = None
    alpha: float = Field(default=0.01, sa_column_kwargs={"server_default": "0.01"})
    # token | app | default (the service's own SCORECARD_GITHUB_* credentials)
    auth: str = "default"
    token: str | None = None
    app_id: str | None = None
    installation_id: int | None = id_reference()
    private_key: str | None = None
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class WebhookDelivery(SQLModel, table=True):
    """One ``X-GitHub-Delivery``: a redelivery of a processed one is acknowledged and skipped,
    a redelivery of a failed one is processed again."""

    __tablename__ = "webhook_delivery"
    id: str = Field(primary_key=True)
    event: str
    action: str | None = None
    # received -> processing -> processed | failed | ignored
    status: str = "received"
    error: str | None = None
    attempts: int = 0
    received_at: datetime = timestamp()
    processed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class RecordTag(SQLModel, table=True):
    """A tag on a record (``urgent``, ``env:prod``): one row per record and text."""

    __tablename__ = "record_tag"
    __table_args__ = (UniqueConstraint("record_id", "text"), Index("ix_record_tag_text", "text"))
    id: int | None = id_primary_key()
    record_id: int = parent("record")
    text: str
    source: str = "user"  # user | otel
    user_id: str | None = None
    created_at: datetime = timestamp()


class RecordAssignment(SQLModel, table=True):
    """Someone asked to review a record: one row per record and assignee."""

    __tablename__ = "record_assignment"
    __table_args__ = (UniqueConstraint("record_id", "assignee_user_id"),)
    id: int | None = id_primary_key()
    record_id: int = parent("record")
    assignee_user_id: str
    assigned_by_user_id: str
    created_at: datetime = timestamp()


class Attachment(SQLModel, table=True):
    """A file of a session, named by its path: the committed content's description, and the
    upload initiated since (``pending_*``) that a commit makes current (see attachments.py)."""

    __table_args__ = (UniqueConstraint("session_id", "file_path"),)
    id: str = Field(default_factory=new_uuid, primary_key=True)
    session_id: str
    file_path: str
    filename: str | None = None
    caller_metadata: dict | None = json_column(nullable=True)
    content_type: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    uploaded_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    pending_content_type: str | None = None
    pending_sha256: str | None = None
    pending_size_bytes: int | None = None
    created_at: datetime = timestamp()


class AttachmentContent(SQLModel, table=True):
    """The bytes of an attachment, by SHA-256: the committed content and an uploaded one
    awaiting its commit."""

    __tablename__ = "attachment_content"
    __table_args__ = (UniqueConstraint("attachment_id", "sha256"),)
    id: int | None = id_primary_key()
    attachment_id: str = parent("attachment", type_=String)
    sha256: str
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = timestamp()


class JudgeCacheEntry(SQLModel, table=True):
    """A judgement kept by what determines it (judge model, temperature, rendered prompt, output
    type), hashed into ``key``: asking the same again reuses it instead of calling the judge."""

    __tablename__ = "judge_cache"
    key: str = Field(primary_key=True)
    score: dict = json_column()
    usage: dict | None = json_column(nullable=True)
    created_at: datetime = timestamp()


class Span(SQLModel, table=True):
    """One OpenTelemetry span received over OTLP/HTTP (traces.py), with the GenAI semantic
    conventions' fields pulled out of its attributes where present. A re-sent batch stores each
    span once: (project_id, trace_id, span_id) is unique, and also finds a project's trace."""

    __table_args__ = (
        UniqueConstraint("project_id", "trace_id", "span_id"),
        # A project's spans newest first; spans received before the retention period (created_at).
        Index("ix_span_project_id_start_time", "project_id", "start_time"),
        Index("ix_span_created_at", "created_at"),
        # A project's spans in the order received: the windows monitors sample (monitors.py).
        Index("ix_span_project_id_created_at", "project_id", "created_at"),
    )
    id: int | None = id_primary_key()
    project_id: int = parent("project", index=False)
    trace_id: str  # lowercase hex: 32 digits
    span_id: str  # 16 digits
    parent_span_id: str | None = None
    service_name: str = ""
    name: str
    kind: str  # internal | server | client | producer | consumer | unspecified
    start_time: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    end_time: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    duration_ms: float
    status_code: str  # unset | ok | error
    status_message: str = ""
    attributes: dict = json_column()
    resource_attributes: dict = json_column()
    events: list | None = json_column(nullable=True)
    model: str | None = None
    input_messages: list | None = json_column(nullable=True)
    output_messages: list | None = json_column(nullable=True)
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Links the span to the records a run created with the same otelLinkId.
    otel_link_id: str | None = Field(default=None, index=True)
    created_at: datetime = timestamp()


class Monitor(SQLModel, table=True):
    """Samples a project's recent spans on a schedule; each cycle becomes a run with source
    ``monitor`` scored by the monitor's metrics (monitors.py). Upserted by description, as
    Scorecard's JS SDK names its monitor after the traced service."""

    __table_args__ = (UniqueConstraint("project_id", "description"),)
    id: int | None = id_primary_key()
    project_id: int = parent("project", index=False)
    description: str
    metric_ids: list = json_column()
    frequency_minutes: int = 60  # 1 minute to 1 day
    sample_rate: int = 100  # percent of traces, chosen by trace ID
    service_name: str | None = None  # the traced service, exactly
    span_name: str | None = None  # a regular expression a span's name must match
    search: str | None = None  # text the span's input or output must contain
    active: bool = True
    # The next scheduled cycle; each covers the spans received since the last one's window ended.
    next_cycle_at: datetime = timestamp()
    sampled_through: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # One cycle at a time: the process running one holds the token until it commits the cycle,
    # or until the lease lapses (it died) and another takes the cycle over from the start.
    cycle_token: str | None = None
    cycle_lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class MonitorCycle(SQLModel, table=True):
    """One cycle of a monitor: the window of spans it looked at and the run it made."""

    __tablename__ = "monitor_cycle"
    __table_args__ = (Index("ix_monitor_cycle_monitor_id_id", "monitor_id", "id"),)
    id: int | None = id_primary_key()
    monitor_id: int = parent("monitor", index=False)
    run_id: int | None = parent("run", ondelete="SET NULL", nullable=True)
    trigger: str  # schedule | manual
    window_start: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    window_end: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    candidates: int = 0  # spans matching the filters in the window
    sampled: int = 0  # of those, sampled now (never one an earlier cycle took)
    created_at: datetime = timestamp()


class MonitorSample(SQLModel, table=True):
    """A span a monitor sampled, and the record it became: the key keeps a span out of a
    second cycle of the same monitor, and links a record back to its trace."""

    __tablename__ = "monitor_sample"
    monitor_id: int = Field(sa_column=Column(IdType, ForeignKey("monitor.id", ondelete="CASCADE"), primary_key=True))
    span_row_id: int = Field(sa_column=Column(IdType, ForeignKey("span.id", ondelete="CASCADE"), primary_key=True))
    cycle_id: int = parent("monitor_cycle", index=False)
    record_id: int | None = parent("record", ondelete="SET NULL", nullable=True)
