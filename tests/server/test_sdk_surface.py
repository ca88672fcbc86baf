"""The official scorecard-ai SDK's record tags, annotations, assignees and attachments, against
our live server, and what those routes answer to bad input."""

from __future__ import annotations

import hashlib

import httpx
import pytest
import requests
import scorecard_ai

from scorecard_core.settings import APP_EXTENSION
from server.settings import settings_of
from tests.server.test_bad_input import UNKNOWN, UNKNOWN_UUID, assert_error

BODY_LIMIT = 15 * 1024 * 1024


@pytest.fixture
def run(sdk):
    project = sdk.projects.create(name="Surface", description="")
    metric = sdk.metrics.create(project.id, name="Human", eval_type="human", output_type="boolean", guidelines="ok?")
    return sdk.runs.create(project.id, metric_ids=[metric.id])


def _records(sdk, run, count):
    return [sdk.records.create(run.id, inputs={"i": i}, expected={}, outputs={"o": i}) for i in range(count)]


def _listed(sdk, run, **filters):
    return sorted(r.id for r in sdk.records.list(run.id, limit=2, **filters))  # 2 a page: paging keeps the filter


def test_tags_through_the_sdk_filter_records_with_and(sdk, run):
    first, second, third = _records(sdk, run, 3)
    tag = sdk.records.tags.create(first.id, text="urgent")
    assert (tag.record_id, tag.text, tag.source) == (first.id, "urgent", "user")
    assert tag.user_id.startswith("api-key:ak_")
    again = sdk.records.tags.create(first.id, text="urgent")
    assert again.id == tag.id  # idempotent
    for record, text in [(first, "env:prod/eu"), (second, "urgent"), (third, "env:prod/eu")]:
        sdk.records.tags.create(record.id, text=text)

    assert [t.text for t in sdk.records.tags.list(first.id).data] == ["urgent", "env:prod/eu"]
    assert _listed(sdk, run, tags=["urgent"]) == sorted([first.id, second.id])
    assert _listed(sdk, run, tags=["urgent", "env:prod/eu"]) == [first.id]
    assert _listed(sdk, run, tags=["urgent", "missing"]) == []
    assert len(_listed(sdk, run)) == 3

    assert sdk.records.tags.delete("env:prod/eu", record_id=first.id).deleted == 1
    assert sdk.records.tags.delete("env:prod/eu", record_id=first.id).deleted == 0
    assert _listed(sdk, run, tags=["env:prod/eu"]) == [third.id]
    assert [t.text for t in sdk.records.tags.list(first.id).data] == ["urgent"]


def test_repeated_tag_parameters_are_and_too(server, api_key, sdk, run):
    first, second = _records(sdk, run, 2)
    sdk.records.tags.create(first.id, text="a")
    sdk.records.tags.create(first.id, text="b")
    sdk.records.tags.create(second.id, text="a")
    response = requests.get(
        f"{server.api_url}/runs/{run.id}/records",
        params=[("tags", "a"), ("tags", "b")],
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10,
    )
    assert [r["id"] for r in response.json()["data"]] == [first.id]


def test_assignees_and_annotations_through_the_sdk(sdk, run):
    (record,) = _records(sdk, run, 1)
    assignment = sdk.records.assignees.create(record.id, assignee_user_id="reviewer@example.com")
    assert (assignment.record_id, assignment.assignee_user_id) == (record.id, "reviewer@example.com")
    assert assignment.assigned_by_user_id.startswith("api-key:ak_")
    assert sdk.records.assignees.create(record.id, assignee_user_id="reviewer@example.com").id == assignment.id
    sdk.records.assignees.create(record.id, assignee_user_id="second")
    assignees = [a.assignee_user_id for a in sdk.records.assignees.list(record.id).data]
    assert assignees == ["reviewer@example.com", "second"]
    assert sdk.records.assignees.delete("reviewer@example.com", record_id=record.id).deleted == 1
    assert sdk.records.assignees.delete("reviewer@example.com", record_id=record.id).deleted == 0
    assert [a.assignee_user_id for a in sdk.records.assignees.list(record.id).data] == ["second"]
    assert sdk.records.annotations.list(record.id).data == []


def test_deleting_a_record_deletes_its_tags_and_assignments(sdk, run):
    (record,) = _records(sdk, run, 1)
    sdk.records.tags.create(record.id, text="urgent")
    sdk.records.assignees.create(record.id, assignee_user_id="someone")
    sdk.records.delete(record.id)
    with pytest.raises(scorecard_ai.NotFoundError):
        sdk.records.tags.list(record.id)
    (other,) = _records(sdk, run, 1)
    assert _listed(sdk, run, tags=["urgent"]) == [] and sdk.records.tags.list(other.id).data == []


def _initiate(sdk, content: bytes, path="out/report.txt", session="sess-1", **extra):
    return sdk.attachments.initiate(
        content_type="text/plain",
        file_path=path,
        session_id=session,
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        **extra,
    )


def test_attachment_upload_commit_get_and_replace_through_the_sdk(sdk):
    first = b"first version\n"
    started = _initiate(sdk, first, filename="report.txt", metadata={"step": 3})
    assert not started.already_exists and started.upload_method == "PUT"
    assert sdk.attachments.get(started.id).status == "pending"
    assert list(sdk.attachments.list("sess-1")) == []  # only committed attachments are listed
    assert httpx.get(started.upload_url).status_code == 404  # an upload URL downloads nothing
    assert httpx.put(started.upload_url, content=first).status_code == 200  # no API key: the URL is signed
    committed = sdk.attachments.commit(started.id)
    assert (committed.status, committed.size_bytes, committed.content_type) == ("uploaded", len(first), "text/plain")
    described = (committed.filename, committed.metadata, committed.file_path)
    assert described == ("report.txt", {"step": 3}, "out/report.txt")
    assert sdk.attachments.commit(started.id).uploaded_at == committed.uploaded_at  # committing again: a no-op

    fetched = sdk.attachments.get(started.id)
    assert httpx.get(fetched.download_url).content == first
    assert _initiate(sdk, first).already_exists is True

    second = b"second version, longer\n"
    replacing = _initiate(sdk, second)
    assert replacing.id == started.id and not replacing.already_exists
    httpx.put(replacing.upload_url, content=second).raise_for_status()
    assert sdk.attachments.get(started.id).sha256 == hashlib.sha256(first).hexdigest()  # until the commit
    sdk.attachments.commit(started.id)
    assert httpx.get(sdk.attachments.get(started.id).download_url).content == second
    assert httpx.get(fetched.download_url).status_code == 404  # the old content's URL is gone with it

    other = _initiate(sdk, b"x", path="other.txt")
    httpx.put(other.upload_url, content=b"x").raise_for_status()
    sdk.attachments.commit(other.id)
    _initiate(sdk, b"y", path="elsewhere.txt", session="sess-2")
    listed = list(sdk.attachments.list("sess-1", limit=1))  # every page
    assert sorted(a.file_path for a in listed) == ["other.txt", "out/report.txt"]

    assert sdk.attachments.delete(started.id).success is True
    with pytest.raises(scorecard_ai.NotFoundError):
        sdk.attachments.get(started.id)
    assert httpx.get(fetched.download_url).status_code == 404


def test_signed_urls_take_the_public_scheme_for_the_same_host_only(server, sdk):
    def public_url(url: str) -> None:
        server.app.extensions[APP_EXTENSION] = settings_of(server.app).model_copy(update={"public_url": url})

    public_url(server.url.replace("http://", "https://"))  # behind a TLS proxy
    assert _initiate(sdk, b"a", path="a").upload_url.startswith(server.url.replace("http://", "https://") + "/")
    public_url("https://scorecard.example.com")  # another host: the one the call came to
    assert _initiate(sdk, b"b", path="b").upload_url.startswith(server.url + "/attachment-files/")


def _http(server, api_key):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"
    return session, server.api_url


def test_unknown_records_and_attachments_are_404(server, api_key, sdk, run):
    http, api = _http(server, api_key)
    for method, path in [
        ("GET", f"/records/{UNKNOWN}/tags"),
        ("POST", f"/records/{UNKNOWN}/tags"),
        ("DELETE", f"/records/{UNKNOWN}/tags/urgent"),
        ("GET", f"/records/{UNKNOWN}/annotations"),
        ("GET", f"/records/{UNKNOWN}/assignees"),
        ("POST", f"/records/{UNKNOWN}/assignees"),
        ("DELETE", f"/records/{UNKNOWN}/assignees/someone"),
        ("GET", "/records/not-an-id/tags"),
        ("GET", f"/attachments/{UNKNOWN_UUID}"),
        ("POST", f"/attachments/{UNKNOWN_UUID}/commit"),
        ("DELETE", f"/attachments/{UNKNOWN_UUID}"),
        ("GET", f"/runs/{UNKNOWN}/records?tags=a"),
    ]:
        body = {"text": "a", "assigneeUserId": "b"} if method == "POST" else None
        assert_error(http.request(method, api + path, json=body, timeout=10), 404)
    for method in ("GET", "PUT"):
        response = requests.request(method, f"{server.url}/attachment-files/forged-token", data=b"x", timeout=10)
        assert_error(response, 404)


def test_bad_fields_are_400_naming_them(server, api_key, sdk, run):
    http, api = _http(server, api_key)
    (record,) = _records(sdk, run, 1)
    good = {"contentType": "text/plain", "filePath": "a.txt", "sessionId": "s", "sha256": "0" * 64, "sizeBytes": 1}
    for path, body, field in [
        (f"/records/{record.id}/tags", {}, "text"),
        (f"/records/{record.id}/tags", {"text": 5}, "text"),
        (f"/records/{record.id}/tags", {"text": "  "}, "text"),
        (f"/records/{record.id}/tags", {"text": "a,b"}, "text"),
        (f"/records/{record.id}/tags", {"text": "x" * 201}, "text"),
        (f"/records/{record.id}/assignees", {"assigneeUserId": None}, "assigneeUserId"),
        (f"/records/{record.id}/assignees", {"assigneeUserId": ""}, "assigneeUserId"),
        ("/attachments", {**good, "sha256": "ABC"}, "sha256"),
        ("/attachments", {**good, "sizeBytes": -1}, "sizeBytes"),
        ("/attachments", {**good, "sizeBytes": "1"}, "sizeBytes"),
        ("/attachments", {**good, "sessionId": ""}, "sessionId"),
        ("/attachments", {k: v for k, v in good.items() if k != "filePath"}, "filePath"),
        ("/attachments", {**good, "metadata": [1]}, "metadata"),
    ]:
        assert_error(http.post(api + path, json=body, timeout=10), 400, field)
    too_many = {"tags": [f"t{i}" for i in range(101)]}
    assert_error(http.get(f"{api}/runs/{run.id}/records", params=too_many, timeout=10), 400, "tags")
    assert sdk.records.tags.list(record.id).data == [] and sdk.records.assignees.list(record.id).data == []


def test_uploads_that_differ_from_their_declaration_are_refused(server, api_key, sdk):
    started = _initiate(sdk, b"declared")
    assert_error(httpx.put(started.upload_url, content=b"other!!!"), 400, "body")  # same size, other hash
    assert_error(httpx.put(started.upload_url, content=b"short"), 400, "body")
    http, api = _http(server, api_key)
    response = http.post(f"{api}/attachments/{started.id}/commit", timeout=10)
    assert response.status_code == 409 and response.json()["code"] == "CONFLICT"
    assert "uploadUrl" in response.json()["message"]
    assert sdk.attachments.get(started.id).status == "pending"


def test_oversized_attachments_are_413(server, api_key, sdk):
    http, api = _http(server, api_key)
    declared = {
        "contentType": "application/zip",
        "filePath": "big.zip",
        "sessionId": "s",
        "sha256": "0" * 64,
        "sizeBytes": BODY_LIMIT + 1,
    }
    body = assert_error(http.post(f"{api}/attachments", json=declared, timeout=10), 413)
    assert body["details"]["field"] == "sizeBytes" and str(BODY_LIMIT) in body["message"]
    small = _initiate(sdk, b"small")
    response = requests.put(small.upload_url, data=b"x" * (BODY_LIMIT + 1), timeout=30)
    assert assert_error(response, 413)["code"] == "PAYLOAD_TOO_LARGE"  # the uploader reads JSON too
    assert assert_error(requests.post(small.upload_url, data=b"x", timeout=10), 405)
    assert sdk.attachments.get(small.id).status == "pending"


def test_metric_name_null_is_400_naming_it(server, api_key, sdk):
    http, api = _http(server, api_key)
    project = sdk.projects.create(name="P", description="")
    metric = sdk.metrics.create(project.id, name="Kept", eval_type="human", output_type="boolean", guidelines="g")
    patch = {"name": None, "evalType": "human", "outputType": "boolean"}
    body = assert_error(http.patch(f"{api}/metrics/{metric.id}", json=patch, timeout=10), 400, "name")
    assert "leave `name` out" in body["message"]
    assert sdk.metrics.get(metric.id).name == "Kept"
