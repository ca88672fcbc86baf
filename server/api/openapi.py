"""The OpenAPI 3.1 document of everything under /api/v2, built from the app's own routes.

Paths, methods and path parameters come from ``current_app.url_map``; what each route takes and
returns is one entry of ``OPERATIONS``, keyed by Flask endpoint. A route without an entry is left
out of the document, and tests/server/test_openapi.py names it. Request schemas are the pydantic
bodies the routes parse; response shapes are in ``openapi_shapes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Blueprint, current_app
from pydantic import TypeAdapter
from pydantic.alias_generators import to_camel
from pydantic.json_schema import GenerateJsonSchema

from scorecard_core.gate import MAX_ALPHA, MIN_ALPHA
from scorecard_core.ids import ID_PATTERN
from scorecard_core.record_tags import MAX_FILTER_TAGS
from scorecard_core.records_search import MAX_QUERY_LENGTH
from scorecard_core.runs import SOURCES
from scorecard_core.stats import DEFAULT_ALPHA

from .assignees import AssigneeCreate
from .attachments import AttachmentInitiate
from .github import ConnectionUpsert, KickoffCreate
from .metrics import MetricCreate, MetricGroupCreate, MetricGroupUpdate, MetricUpdate
from .monitor_shapes import Monitor, MonitorCycle, MonitorCycleResult
from .monitors import CycleRequest, MonitorChanges, MonitorUpsert
from .openapi_shapes import (
    AnnotationList,
    Attachment,
    AttachmentDownload,
    AttachmentUpload,
    Deleted,
    Error,
    Metric,
    MetricGroup,
    Project,
    ProjectHistory,
    ProjectRecordPage,
    Record,
    RecordAssignment,
    RecordAssignmentList,
    RecordList,
    RecordTag,
    RecordTagList,
    Run,
    RunComparison,
    RunSummary,
    Score,
    Success,
    System,
    SystemVersion,
    Testcase,
    TestcaseList,
    Testset,
)
from .parsing import DEFAULT_LIMIT, MAX_LIMIT, Body
from .projects import ProjectCreate
from .records import RecordBatch, RecordCreate, ScoreUpsert
from .results import MAX_HISTORY_RUNS, Rescore
from .runs import RunCreate, RunUpdate
from .systems import SystemUpdate, SystemUpsert, VersionUpsert
from .tags import TagCreate
from .testsets import TestcaseBatch, TestcaseData, TestcaseIds, TestsetCreate, TestsetUpdate

bp = Blueprint("openapi", __name__)

# ---- One entry per route ----


@dataclass(frozen=True)
class Operation:
    summary: str
    response: Any  # the success body's type; with ``page`` the type of the page's items
    body: type[Body] | None = None
    statuses: tuple[int, ...] = (200,)
    page: bool = False  # takes `limit` and `cursor`, answers a page of `response`
    query: tuple[dict[str, Any], ...] = ()  # other query parameters, from `query_parameter`
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()  # error statuses beyond the ones every route of its kind has


def query_parameter(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


CREATED = (201,)
NUMERIC_ID = {"type": "string", "pattern": ID_PATTERN}
ALPHA_QUERY = query_parameter(
    "alpha",
    {"type": "number", "minimum": MIN_ALPHA, "maximum": MAX_ALPHA, "default": DEFAULT_ALPHA},
    "significance level of verdicts and planning figures, each direction one-sided",
)
HISTORY_QUERY = (
    query_parameter("metricIds", {"type": "string"}, "comma-separated metric IDs to keep, e.g. `12,34`"),
    query_parameter("testsetId", NUMERIC_ID, "only runs over this testset"),
    query_parameter(
        "limit", {"type": "integer", "minimum": 1, "maximum": MAX_HISTORY_RUNS, "default": 30}, "the newest N runs"
    ),
)

RUN_LIST_QUERY = (
    query_parameter("testsetId", NUMERIC_ID, "only runs over this testset (our extension)"),
    query_parameter("gitRef", {"type": "string"}, "only runs whose git context has this ref (our extension)"),
    query_parameter("status", {"type": "string"}, "comma-separated run statuses to keep (our extension)"),
    query_parameter("source", {"enum": list(SOURCES)}, "only runs from this source, e.g. `monitor` (our extension)"),
)

GITHUB_CONNECTION = dict[str, Any]

# A new route needs an entry here (its Flask endpoint -> summary, response type, request body,
# success statuses); the test fails naming any route that has none.
OPERATIONS: dict[str, Operation] = {
    "api.github.upsert_connection": Operation(
        "Connect a project to its GitHub repository (our extension; secrets are write-only)",
        GITHUB_CONNECTION,
        ConnectionUpsert,
    ),
    "api.github.get_connection": Operation("A project's GitHub connection, without secrets", GITHUB_CONNECTION),
    "api.github.delete_connection": Operation("Disconnect a project from GitHub", Success),
    "api.github.create_kickoff": Operation(
        "Create a run and dispatch the connected GitHub workflow to fill it (target `github`), or execute "
        "a prompt (`scorecard`) or endpoint (`endpoint`) system version on this server (our extension)",
        Run,
        KickoffCreate,
        CREATED,
        errors=(409, 422, 502),
    ),
    "api.openapi.document": Operation("This OpenAPI document", dict[str, Any]),
    "api.projects.create_project": Operation("Create a project", Project, ProjectCreate, CREATED),
    "api.projects.list_projects": Operation("List projects", Project, page=True),
    "api.testsets.create_testset": Operation("Create a testset", Testset, TestsetCreate, CREATED),
    "api.testsets.list_testsets": Operation("List a project's testsets", Testset, page=True),
    "api.testsets.get_testset": Operation("Get a testset", Testset),
    "api.testsets.update_testset": Operation("Update a testset (revalidates its testcases)", Testset, TestsetUpdate),
    "api.testsets.delete_testset": Operation("Delete a testset and its testcases", Success),
    "api.testsets.list_testcases": Operation("List a testset's testcases", Testcase, page=True),
    "api.testsets.create_testcases": Operation("Create up to 100 testcases", TestcaseList, TestcaseBatch, CREATED),
    "api.testsets.get_testcase": Operation("Get a testcase", Testcase),
    "api.testsets.replace_testcase": Operation("Replace a testcase's data", Testcase, TestcaseData),
    "api.testsets.delete_testcases": Operation("Delete testcases by ID", Success, TestcaseIds),
    "api.metrics.create_metric": Operation("Create a metric", Metric, MetricCreate, CREATED),
    "api.metrics.list_metrics": Operation("List a project's metrics", Metric, page=True),
    "api.metrics.get_metric": Operation("Get a metric", Metric),
    "api.metrics.update_metric": Operation("Update a metric (past runs keep their snapshot)", Metric, MetricUpdate),
    "api.metrics.delete_metric": Operation("Delete a metric", Success),
    "api.metrics.create_metric_group": Operation("Create a metric group", MetricGroup, MetricGroupCreate, CREATED),
    "api.metrics.list_metric_groups": Operation("List a project's metric groups", MetricGroup, page=True),
    "api.metrics.get_metric_group": Operation("Get a metric group", MetricGroup),
    "api.metrics.update_metric_group": Operation("Update a metric group", MetricGroup, MetricGroupUpdate),
    "api.metrics.delete_metric_group": Operation("Delete a metric group", Success),
    "api.systems.upsert_system": Operation(
        "Create (201) or update (200) a system by name", System, SystemUpsert, (201, 200)
    ),
    "api.systems.list_systems": Operation("List a project's systems", System, page=True),
    "api.systems.get_system": Operation("Get a system", System),
    "api.systems.update_system": Operation(
        "Update a system (renaming it to another system's name is a conflict)", System, SystemUpdate, errors=(409,)
    ),
    "api.systems.delete_system": Operation("Delete a system", Success),
    "api.systems.upsert_system_version": Operation(
        "Create or reuse the system version with this config", SystemVersion, VersionUpsert
    ),
    "api.systems.get_system_version": Operation("Get a system version", SystemVersion),
    "api.monitors.put_monitor": Operation(
        "Create or change the project's monitor with this description (metrics: IDs or descriptions)",
        Monitor,
        MonitorUpsert,
        (200, 201),
    ),
    "api.monitors.put_monitor_at_the_js_sdks_path": Operation(
        "The same, at the path Scorecard's JS SDK builds (its base URL's /api/v2 twice)",
        Monitor,
        MonitorUpsert,
        (200, 201),
    ),
    "api.monitors.list_monitors": Operation("List a project's monitors", Monitor, page=True),
    "api.monitors.get_monitor": Operation("Get a monitor", Monitor),
    "api.monitors.update_monitor": Operation(
        "Change a monitor's settings, pause or resume it", Monitor, MonitorChanges
    ),
    "api.monitors.delete_monitor": Operation("Delete a monitor (its runs stay)", Success),
    "api.monitors.list_cycles": Operation("List a monitor's cycles, newest first", MonitorCycle, page=True),
    "api.monitors.run_monitor": Operation(
        "Run a cycle now over the last `lookbackMinutes` (default: one period)",
        MonitorCycleResult,
        CycleRequest,
        CREATED,
        errors=(409,),
    ),
    "api.runs.create_run": Operation("Create a run", Run, RunCreate, CREATED),
    "api.runs.list_runs": Operation("List a project's runs, newest first", Run, page=True, query=RUN_LIST_QUERY),
    "api.runs.get_run": Operation("Get a run", Run),
    "api.runs.update_run": Operation(
        "Edit a run's notes or git context, or end its execution (our extension)", Run, RunUpdate
    ),
    "api.runs.cancel_run": Operation(
        "Stop executing a run this server executes (our extension); what was recorded is scored",
        Run,
        errors=(409,),
    ),
    "api.records.create_record": Operation("Create a record", Record, RecordCreate, CREATED),
    "api.records.create_records": Operation(
        "Create up to 1000 records idempotently (our extension)", RecordList, RecordBatch, CREATED
    ),
    "api.records.list_records": Operation(
        "List a run's records with their scores",
        Record,
        page=True,
        query=(
            query_parameter(
                "tags",
                {"type": "array", "items": {"type": "string"}, "maxItems": MAX_FILTER_TAGS},
                "only records carrying every one of these tags: `?tags=a&tags=b`, or `?tags=a,b` as the SDK sends",
            ),
        ),
    ),
    "api.project_records.search_records": Operation(
        "Search a project's records across its runs, newest first, with their scores (our extension)",
        ProjectRecordPage,
        query=(
            {"$ref": "#/components/parameters/limit"},
            {"$ref": "#/components/parameters/cursor"},
            query_parameter(
                "q",
                {"type": "string", "maxLength": MAX_QUERY_LENGTH},
                "full-text search of inputs, outputs and expected: every word must start a word of the record",
            ),
            query_parameter(
                "filter",
                {"type": "array", "items": {"type": "string"}},
                "a pill `key:value`, one parameter each, AND-ed: `metric.<metricId>:pass|fail|pending|error`, "
                "`source:<source>`, `run:<runId>`, `testcase:<testcaseId>`, `created>:<ISO date>` (at or after), "
                "`created<:<ISO date>` (before), `review:pending` (a human metric awaiting its score); "
                "an unknown key is a 400 naming it",
            ),
        ),
    ),
    "api.tags.create_tag": Operation(
        "Tag a record (201), or get the tag it already has (200)", RecordTag, TagCreate, (201, 200)
    ),
    "api.tags.list_tags": Operation("List a record's tags", RecordTagList),
    "api.tags.delete_tag": Operation("Remove a tag from a record by its text", Deleted),
    "api.annotations.list_annotations": Operation("List a record's annotations", AnnotationList),
    "api.assignees.create_assignee": Operation(
        "Assign a member to a record (201), or get the assignment that exists (200)",
        RecordAssignment,
        AssigneeCreate,
        (201, 200),
    ),
    "api.assignees.list_assignees": Operation("List the members assigned to a record", RecordAssignmentList),
    "api.assignees.delete_assignee": Operation("Unassign a member from a record", Deleted),
    "api.attachments.initiate_attachment": Operation(
        "Declare a session's file (201 with an upload URL), or find its content stored already (200)",
        AttachmentUpload,
        AttachmentInitiate,
        (201, 200),
    ),
    "api.attachments.commit_attachment": Operation(
        "Make the uploaded content current (a no-op when nothing is pending)", Attachment, errors=(409,)
    ),
    "api.attachments.get_attachment": Operation("Get an attachment and a download URL", AttachmentDownload),
    "api.attachments.delete_attachment": Operation("Delete an attachment and its content", Success),
    "api.attachments.list_attachments": Operation("List a session's committed attachments", Attachment, page=True),
    "api.records.delete_record": Operation("Delete a record", Success),
    "api.records.upsert_score": Operation("Create or replace a record's score for one metric", Score, ScoreUpsert),
    "api.results.rescore_run": Operation("Re-run scoring of some metrics (our extension)", Run, Rescore),
    "api.results.run_summary": Operation(
        "Pass rates and averages per metric with their intervals, latency and cost (our extension)",
        RunSummary,
        query=(ALPHA_QUERY,),
    ),
    "api.results.compare_runs": Operation(
        "Compare a run with a baseline run: paired changes, intervals, p-values and verdicts (our extension)",
        RunComparison,
        query=(
            query_parameter("baselineRunId", NUMERIC_ID, "the run to compare against", required=True),
            ALPHA_QUERY,
            query_parameter(
                "regressionMargin", {"type": "string"}, "drops tolerated before a regression, e.g. `2pp, 0.25`"
            ),
        ),
    ),
    "api.results.export_run": Operation(
        "Records and scores as CSV, one row per record (our extension)", str, media_type="text/csv"
    ),
    "api.results.project_history": Operation(
        "Per-metric results of a project's recent runs (our extension)", ProjectHistory, query=HISTORY_QUERY
    ),
}

# ---- Building the document ----

SCHEMAS = "#/components/schemas/"
ERROR_RESPONSES = {
    400: ("BadRequest", "A missing or invalid field, parameter or body; `details.field` names it"),
    401: ("Unauthorized", "Missing, invalid or revoked API key"),
    404: ("NotFound", "No such resource"),
    409: ("Conflict", "The request conflicts with the resource's state or settings"),
    413: ("PayloadTooLarge", "The body is larger than 15 MB"),
    422: ("GitHubDispatchRejected", "GitHub refused the dispatch; `details` has its status and reason"),
    502: ("GitHubUnavailable", "GitHub could not be reached"),
}
RULE_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


class WithoutFieldTitles(GenerateJsonSchema):
    """Pydantic titles every property ("Metric Ids"); in an API document that is only noise."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _schemas(types: list[Any]) -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    """JSON Schemas of ``types`` (refs into components for models), and the components."""
    refs, definitions = TypeAdapter.json_schemas(
        [(t, "validation", TypeAdapter(t)) for t in types],
        by_alias=True,
        ref_template=SCHEMAS + "{model}",
        schema_generator=WithoutFieldTitles,
    )
    return {t: schema for (t, _mode), schema in refs.items()}, definitions.get("$defs", {})


def _page_schema(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data", "nextCursor", "hasMore", "total"],
        "properties": {
            "data": {"type": "array", "items": item},
            "nextCursor": {
                "type": ["string", "null"],
                "description": "pass back as `cursor` for the next page; null on the last page",
            },
            "hasMore": {"type": "boolean"},
            "total": {"type": "integer", "minimum": 0},
        },
    }


def _content(schema: dict[str, Any], description: str, media_type: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _operation(
    endpoint: str, path_args: list[str], spec: Operation, refs: dict[Any, Any], public: bool
) -> dict[str, Any]:
    blueprint, _, function = endpoint.rpartition(".")
    operation: dict[str, Any] = {
        "tags": [blueprint.rpartition(".")[2]],
        "summary": spec.summary,
        "operationId": to_camel(function),
    }
    parameters = [
        {"name": to_camel(arg), "in": "path", "required": True, "schema": {"type": "string"}} for arg in path_args
    ]
    if spec.page:
        parameters += [{"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/cursor"}]
    parameters += spec.query
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[spec.body]}}}
    success = refs[spec.response]
    if spec.page:
        success = {"$ref": f"{SCHEMAS}{spec.response.__name__}Page"}
    responses = {str(status): _content(success, HTTPStatus(status).phrase, spec.media_type) for status in spec.statuses}
    errors = {
        400: spec.body is not None or spec.page or bool(spec.query),
        401: not public,
        404: bool(path_args),
        413: spec.body is not None,
        **{status: True for status in spec.errors},
    }
    for status, applies in errors.items():
        if applies:
            responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
    operation["responses"] = responses
    if public:
        operation["security"] = []
    return operation


def build_document() -> dict[str, Any]:
    from . import PUBLIC_ENDPOINTS  # the package imports this module first

    prefix = current_app.blueprints["api"].url_prefix
    bodies = {spec.body for spec in OPERATIONS.values() if spec.body is not None}
    responses = {spec.response for spec in OPERATIONS.values()}
    refs, schemas = _schemas([*bodies, *responses, Error])
    for spec in OPERATIONS.values():
        if spec.page:
            schemas[f"{spec.response.__name__}Page"] = _page_schema(refs[spec.response])

    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        spec = OPERATIONS.get(rule.endpoint)
        if spec is None or not rule.rule.startswith(prefix + "/"):
            continue  # not ours, or undocumented (the test names it)
        path = RULE_ARGUMENT.sub(lambda m: "{" + to_camel(m.group(1)) + "}", rule.rule[len(prefix) :])
        path_args = RULE_ARGUMENT.findall(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                rule.endpoint, path_args, spec, refs, rule.endpoint in PUBLIC_ENDPOINTS
            )

    error_ref = refs[Error]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Scorecard-compatible API",
            "version": "2",
            "description": "Scorecard's v2 REST API as this server serves it, with our extensions marked.",
        },
        "servers": [{"url": prefix}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {name: _content(error_ref, text) for name, text in ERROR_RESPONSES.values()},
            "parameters": {
                "limit": query_parameter(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                    "items per page",
                ),
                "cursor": query_parameter("cursor", {"type": "string"}, "the previous page's `nextCursor`"),
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key, created with `scorecard api-key create`",
                }
            },
        },
    }


@bp.get("/openapi.json")
def document():
    # The routes are fixed once the app serves requests, so one build per app is enough.
    if "scorecard.openapi" not in current_app.extensions:
        current_app.extensions["scorecard.openapi"] = build_document()
    return current_app.extensions["scorecard.openapi"]
