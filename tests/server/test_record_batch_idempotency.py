"""Batch uploads are idempotent: a retried batch creates nothing, a key repeated in one batch
returns one record, and the answer lists one record per item in the order sent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def make_run(client, cases: int):
    project = client.post("/projects", {"name": "batches"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {"name": "t", "jsonSchema": {"type": "object"}, "fieldMapping": {"inputs": ["q"], "expected": ["a"]}},
    )
    items = [{"jsonData": {"q": f"q{i}", "a": f"a{i}"}} for i in range(cases)]
    testcases = client.post(f"/testsets/{testset['id']}/testcases", {"items": items})["items"]
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": [], "testsetId": testset["id"]})
    return run, testcases


def item(testcase, answer: str, **extra):
    return {
        "testcaseId": testcase["id"],
        "inputs": testcase["inputs"],
        "expected": testcase["expected"],
        "outputs": {"answer": answer},
        **extra,
    }


def test_retried_and_overlapping_batches_create_no_duplicates(client):
    run, testcases = make_run(client, 6)
    url = f"/runs/{run['id']}/records/batch"
    first = client.post(url, {"items": [item(tc, "first") for tc in testcases[:4]]})["items"]
    assert [r["testcaseId"] for r in first] == [tc["id"] for tc in testcases[:4]]
    assert len({r["id"] for r in first}) == 4

    retried = client.post(url, {"items": [item(tc, "retried") for tc in testcases[:4]]})["items"]
    assert retried == first  # the stored records, not the retried outputs

    overlapping = client.post(url, {"items": [item(tc, "later") for tc in reversed(testcases[2:])]})["items"]
    assert [r["testcaseId"] for r in overlapping] == [tc["id"] for tc in reversed(testcases[2:])]
    assert overlapping[2:] == [first[3], first[2]]
    assert [r["outputs"]["answer"] for r in overlapping[:2]] == ["later", "later"]

    stored = {r["id"]: r for r in client.paginate(f"/runs/{run['id']}/records")}
    assert len(stored) == 6
    assert all(stored[r["id"]] | {"scores": []} == r | {"scores": []} for r in first + overlapping)
    assert client.get(f"/runs/{run['id']}")["numRecords"] == 6


def test_repeated_keys_trials_and_unkeyed_items_in_one_batch(client):
    run, (one, two) = make_run(client, 2)
    items = [
        item(one, "a", trial=0),
        {"inputs": {"q": "free"}, "outputs": {"answer": "no key"}},
        item(one, "b", trial=1),
        item(two, "c", idempotencyKey="custom"),
        item(one, "d", trial=0),  # repeats the first item's key
        {"inputs": {"q": "free"}, "outputs": {"answer": "no key"}},
        item(two, "e", idempotencyKey="custom"),
    ]
    answer = client.post(f"/runs/{run['id']}/records/batch", {"items": items})["items"]
    assert [r["outputs"]["answer"] for r in answer] == ["a", "no key", "b", "c", "a", "no key", "c"]
    assert answer[4] == answer[0] and answer[6] == answer[3]
    assert answer[1]["id"] != answer[5]["id"]  # items without a key are always new
    assert client.get(f"/runs/{run['id']}")["numRecords"] == 5
    # Ids follow the order sent, as a listing by id shows.
    listed = [r["id"] for r in client.paginate(f"/runs/{run['id']}/records")]
    assert listed == [answer[i]["id"] for i in (0, 1, 2, 3, 5)]


def test_concurrent_uploads_of_the_same_batch_store_it_once(client, server, api_key):
    from scorecard_core.client import ScorecardClient

    run, testcases = make_run(client, 50)
    batch = {"items": [item(tc, "x") for tc in testcases]}

    def upload(_):
        uploader = ScorecardClient(server.api_url, api_key, max_retries=3)
        return [r["id"] for r in uploader.post(f"/runs/{run['id']}/records/batch", batch)["items"]]

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(upload, range(4)))
    assert all(a == answers[0] for a in answers)
    assert client.get(f"/runs/{run['id']}")["numRecords"] == 50
