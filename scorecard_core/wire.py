"""The v2 wire shapes (camelCase JSON) of our tables, exactly as Scorecard's SDK reads them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .models import (
    Attachment,
    Metric,
    MetricGroup,
    Monitor,
    MonitorCycle,
    Project,
    Record,
    RecordAssignment,
    RecordTag,
    Run,
    Score,
    System,
    SystemVersion,
    Testcase,
    Testset,
)
from .testsets import split


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def project(p: Project) -> dict[str, Any]:
    return {"id": str(p.id), "name": p.name, "description": p.description}


def testset(t: Testset) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "name": t.name,
        "description": t.description,
        "jsonSchema": t.json_schema,
        "fieldMapping": t.field_mapping,
    }


def testcase(tc: Testcase, field_mapping: dict[str, list[str]]) -> dict[str, Any]:
    inputs, expected = split(field_mapping, tc.json_data)
    body: dict[str, Any] = {
        "id": str(tc.id),
        "testsetId": str(tc.testset_id),
        "jsonData": tc.json_data,
        "inputs": inputs,
        "expected": expected,
    }
    if tc.validation_errors:
        body["validationErrors"] = tc.validation_errors
    return body


def metric(m: Metric) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(m.id),
        "name": m.name,
        "description": m.description,
        "evalType": m.eval_type,
        "outputType": m.output_type,
        "guidelines": m.guidelines,
    }
    if m.output_type != "boolean":
        threshold = m.passing_threshold
        assert threshold is not None, "apply_rules gives every int and float metric a threshold"
        body["passingThreshold"] = int(threshold) if m.output_type == "int" else threshold
    if m.eval_type == "ai":
        body.update(
            promptTemplate=m.prompt_template or "",
            evalModelName=m.eval_model_name,
            temperature=m.temperature,
            judgeCache=m.judge_cache,
        )
    if m.heuristic is not None:
        body["heuristic"] = m.heuristic
    return body


def metric_group(g: MetricGroup) -> dict[str, Any]:
    return {
        "id": str(g.id),
        "projectId": str(g.project_id),
        "name": g.name,
        "description": g.description,
        "metricIds": [str(i) for i in g.metric_ids],
        "createdAt": _iso(g.created_at),
        "updatedAt": _iso(g.updated_at),
    }


def system_version(v: SystemVersion) -> dict[str, Any]:
    return {"id": v.id, "systemId": v.system_id, "name": v.name, "config": shown_config(v.config)}


def shown_config(config: dict[str, Any]) -> dict[str, Any]:
    """A version's config as anyone may see it: an endpoint's secret header values
    (``{"secret": "<value>"}``) are write-only, shown as ``{"secret": true}`` and never returned."""
    headers = config.get("headers")
    if not isinstance(headers, dict):
        return config
    return {**config, "headers": {name: _shown_header(value) for name, value in headers.items()}}


def _shown_header(value: Any) -> Any:
    return {"secret": True} if isinstance(value, dict) and set(value) == {"secret"} else value


def system(s: System, versions: Iterable[SystemVersion]) -> dict[str, Any]:
    versions = list(versions)
    production = next((v for v in versions if v.id == s.production_version_id), None)
    return {
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "productionVersion": system_version(production) if production else None,
        "versions": [{"id": v.id, "name": v.name} for v in versions],
    }


def run(r: Run) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "projectId": str(r.project_id),
        "testsetId": str(r.testset_id) if r.testset_id is not None else None,
        "systemId": r.system_id,
        "systemVersionId": r.system_version_id,
        "metricIds": [str(i) for i in r.metric_ids],
        "metricVersionIds": list(r.metric_version_ids),
        "numExpectedRecords": r.num_expected_records,
        "numRecords": r.num_records,
        "numScores": r.num_scores,
        "status": r.status,
        "source": r.source,
        "notes": r.notes,
        "git": r.git,
        "error": r.error,
        "statusDetail": r.status_detail,
        "createdAt": _iso(r.created_at),
        "updatedAt": _iso(r.updated_at),
    }


def score(s: Score) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recordId": str(s.record_id),
        "metricConfigId": s.metric_version_id,
        "score": s.score or {},
        "userId": s.user_id,
        "status": s.status,
    }
    if s.validation_errors:
        body["validationErrors"] = s.validation_errors
    if s.error:
        body["error"] = s.error
    if s.usage is not None:
        body["usage"] = s.usage
    return body


def record(r: Record, scores: Iterable[Score] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(r.id),
        "runId": str(r.run_id),
        "testcaseId": str(r.testcase_id) if r.testcase_id is not None else None,
        "inputs": r.inputs,
        "expected": r.expected,
        "outputs": r.outputs,
        "error": r.error,
        "createdAt": _iso(r.created_at),
    }
    if r.call_metadata is not None:  # only records whose system call reported any
        body["metadata"] = r.call_metadata
    if r.duration_ms is not None:  # only records whose caller measured the call
        body["durationMs"] = r.duration_ms
    if scores is not None:
        body["scores"] = [score(s) for s in scores]
    return body


def record_tag(t: RecordTag) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "recordId": str(t.record_id),
        "text": t.text,
        "source": t.source,
        "userId": t.user_id,
        "createdAt": _iso(t.created_at),
    }


def record_assignment(a: RecordAssignment) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "recordId": str(a.record_id),
        "assigneeUserId": a.assignee_user_id,
        "assignedByUserId": a.assigned_by_user_id,
        "createdAt": _iso(a.created_at),
    }


def attachment(a: Attachment) -> dict[str, Any]:
    """The committed content's description (``pending`` until the first commit)."""
    return {
        "id": a.id,
        "sessionId": a.session_id,
        "filePath": a.file_path,
        "filename": a.filename,
        "metadata": a.caller_metadata,
        "contentType": a.content_type if a.uploaded_at is not None else None,
        "sha256": a.sha256,
        "sizeBytes": a.size_bytes,
        "status": "uploaded" if a.uploaded_at is not None else "pending",
        "uploadedAt": _iso(a.uploaded_at),
    }


def monitor(m: Monitor) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "projectId": str(m.project_id),
        "description": m.description,
        "metrics": [str(i) for i in m.metric_ids],
        "frequencyMinutes": m.frequency_minutes,
        "sampleRate": m.sample_rate,
        "filter": {"serviceName": m.service_name, "spanName": m.span_name, "search": m.search},
        "active": m.active,
        "nextCycleAt": _iso(m.next_cycle_at) if m.active else None,
        "createdAt": _iso(m.created_at),
        "updatedAt": _iso(m.updated_at),
    }


def monitor_cycle(c: MonitorCycle) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "monitorId": str(c.monitor_id),
        "runId": str(c.run_id) if c.run_id is not None else None,
        "trigger": c.trigger,
        "windowStart": _iso(c.window_start),
        "windowEnd": _iso(c.window_end),
        "candidates": c.candidates,
        "sampled": c.sampled,
        "createdAt": _iso(c.created_at),
    }
