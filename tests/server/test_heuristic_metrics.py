"""Heuristic metric configs over real HTTP: validated on create and update, stored normalised."""

from __future__ import annotations

import pytest

from scorecard_core.client import ApiError

EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer", "caseSensitive": False}


@pytest.fixture
def project_id(client) -> str:
    return client.post("/projects", {"name": "Heuristics", "description": ""})["id"]


def _create(client, project_id: str, heuristic, output_type: str = "boolean") -> dict:
    body = {"name": "Check", "evalType": "heuristic", "outputType": output_type, "heuristic": heuristic}
    return client.post(f"/projects/{project_id}/metrics", body)


@pytest.mark.parametrize(
    "heuristic, field, problem",
    [
        ({**EXACT, "type": "regex", "pattern": "(oops"}, "heuristic.pattern", "not a valid regular expression"),
        ({"type": "nearly"}, "heuristic.type", "must be one of exact_match"),
        ({"type": "json_schema", "outputField": "raw", "schema": {"type": 7}}, "heuristic.schema", "JSON Schema"),
        ({"type": "numeric", "outputField": "n", "expectedField": "n", "tolerance": -2}, "heuristic.tolerance", "zero"),
        ({"type": "exact_match", "outputField": "answer"}, "heuristic.expectedField", "is required"),
    ],
)
def test_create_with_bad_config_is_rejected_naming_the_field(client, project_id, heuristic, field, problem):
    with pytest.raises(ApiError) as caught:
        _create(client, project_id, heuristic)
    assert caught.value.status == 400
    assert f"`{field}`" in caught.value.message and problem in caught.value.message
    assert caught.value.details == {"field": field}
    assert list(client.paginate(f"/projects/{project_id}/metrics")) == []


def test_good_config_is_stored_normalised_and_returned(client, project_id):
    similar = {"type": "similarity", "outputField": "reply.text", "expectedField": "answer"}
    created = _create(client, project_id, similar, output_type="float")
    normalised = {**similar, "threshold": 0.8, "caseSensitive": True}
    assert created["heuristic"] == normalised
    assert created["passingThreshold"] == 0.9
    assert client.get(f"/metrics/{created['id']}")["heuristic"] == normalised
    listed = list(client.paginate(f"/projects/{project_id}/metrics"))
    assert [m["heuristic"] for m in listed] == [normalised]


def test_patch_with_bad_config_leaves_the_metric_unchanged(client, project_id):
    metric = _create(client, project_id, EXACT)
    stored = client.get(f"/metrics/{metric['id']}")
    bad = {
        "evalType": "heuristic",
        "outputType": "boolean",
        "name": "Renamed",
        "heuristic": {**EXACT, "expectedField": ""},
    }
    with pytest.raises(ApiError) as caught:
        client.patch(f"/metrics/{metric['id']}", bad)
    assert caught.value.status == 400 and "`heuristic.expectedField`" in caught.value.message
    assert client.get(f"/metrics/{metric['id']}") == stored

    good = {"evalType": "heuristic", "outputType": "int", "heuristic": {"type": "valid_json", "outputField": "raw"}}
    updated = client.patch(f"/metrics/{metric['id']}", good)
    assert updated["heuristic"] == {"type": "valid_json", "outputField": "raw"}
    assert updated["outputType"] == "int" and updated["passingThreshold"] == 4


def test_sdk_creates_a_heuristic_metric_with_or_without_config(sdk):
    project = sdk.projects.create(name="SDK heuristics", description="")
    configured = sdk.metrics.create(
        project.id,
        name="Has total",
        eval_type="heuristic",
        output_type="boolean",
        extra_body={"heuristic": {"type": "contains", "outputField": "text", "value": "total"}},
    )
    assert configured.model_extra["heuristic"]["value"] == "total"
    # Without our extension the metric is scored by the caller's code, as on hosted Scorecard.
    plain = sdk.metrics.create(project.id, name="Custom", eval_type="heuristic", output_type="float")
    assert plain.eval_type == "heuristic" and not (plain.model_extra or {}).get("heuristic")
