"""The project's Records page over real HTTP: search, each filter pill against sets built
independently, paging, a bad pill, chosen columns remembered, bulk re-score of ticked and of all
filtered records, and the CSV of a filter."""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass

import pytest
from sqlmodel import Session, col, select

from scorecard_core.models import Score
from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import EXACT

from .test_ui import HOSTILE, assert_escaped, browser, csrf_token, data_dir  # noqa: F401  (fixtures)

SCHEMA = {"type": "object", "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}}


@dataclass
class Project:
    """Run A (api, exact match; testcases 4 and 5 answered wrong) and run B (github, exact match
    and a human reviewer awaiting scores; testcase 1 answered wrong). Only testcase 1's question
    says "zebra"."""

    project: dict
    exact: dict
    reviewer: dict
    cases: list[dict]
    run_a: dict
    run_b: dict
    a: list[int]  # record IDs by testcase index
    b: list[int]

    def url(self, server) -> str:
        return f"{server.url}/projects/{self.project['id']}/records"

    @property
    def every(self) -> set[int]:
        return {*self.a, *self.b}


def _upload(client, run, cases, wrong: set[int]) -> list[int]:
    items = [
        {
            "testcaseId": case["id"],
            "inputs": case["inputs"],
            "expected": case["expected"],
            "outputs": {"answer": f"wrong {HOSTILE}" if index in wrong else case["expected"]["answer"]},
        }
        for index, case in enumerate(cases)
    ]
    return [int(r["id"]) for r in client.post(f"/runs/{run['id']}/records/batch", {"items": items})["items"]]


@pytest.fixture
def records_project(client) -> Project:
    project = client.post("/projects", {"name": f"records {HOSTILE}"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {"name": "t", "jsonSchema": SCHEMA, "fieldMapping": {"inputs": ["question"], "expected": ["answer"]}},
    )
    questions = [f"question {i}" if i != 1 else "which zebra?" for i in range(6)]
    cases = client.post(
        f"/testsets/{testset['id']}/testcases",
        {"items": [{"jsonData": {"question": q, "answer": f"a{i}"}} for i, q in enumerate(questions)]},
    )["items"]
    exact = client.post(
        f"/projects/{project['id']}/metrics",
        {"name": "Exact", "evalType": "heuristic", "outputType": "boolean", "guidelines": "", "heuristic": EXACT},
    )
    reviewer = client.post(
        f"/projects/{project['id']}/metrics",
        {"name": "Reviewer", "evalType": "human", "outputType": "boolean", "guidelines": "look"},
    )
    run_a = client.post(
        f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]], "source": "api"}
    )
    a = _upload(client, run_a, cases, wrong={4, 5})
    run_b = client.post(
        f"/projects/{project['id']}/runs",
        {"testsetId": testset["id"], "metricIds": [exact["id"], reviewer["id"]], "source": "github"},
    )
    b = _upload(client, run_b, cases[:3], wrong={1})
    client.patch(f"/runs/{run_b['id']}", {"status": "awaiting_scoring"})  # three of six testcases: done
    run_a = wait_for_run(client, run_a["id"])
    run_b = wait_for_run(client, run_b["id"], statuses=("awaiting_human_scoring",))
    return Project(project, exact, reviewer, cases, run_a, run_b, a, b)


def shown(response) -> list[int]:
    """The record IDs of the page's table, in order."""
    assert response.status_code == 200, response.text[:2000]
    return [int(i) for i in re.findall(r'/runs/\d+/records/(\d+)"', response.text)]


def test_search_and_each_filter_pill(server, browser, records_project):
    p = records_project
    url = p.url(server)
    page = browser.get(url)
    assert shown(page) == sorted(p.every, reverse=True)  # newest first
    assert_escaped(page.text)
    assert "Records over time" in page.text and 'class="bar-link"' in page.text

    exact, reviewer = p.exact["id"], p.reviewer["id"]
    wanted = {
        f"metric.{exact}:fail": {p.a[4], p.a[5], p.b[1]},
        f"metric.{exact}:pass": {*p.a[:4], p.b[0], p.b[2]},
        f"metric.{reviewer}:pending": set(p.b),
        f"metric.{exact}:pending": set(),
        f"metric.{exact}:error": set(),
        "review:pending": set(p.b),
        "source:github": set(p.b),
        "source:api": set(p.a),
        f"run:{p.run_a['id']}": set(p.a),
        f"testcase:{p.cases[0]['id']}": {p.a[0], p.b[0]},
        "created<:2000-01-01": set(),
        "created>:2000-01-01T00:00:00Z": p.every,
    }
    for pill, expected in wanted.items():
        assert set(shown(browser.get(url, params={"filter": pill}))) == expected, pill

    assert set(shown(browser.get(url, params={"q": "zebra"}))) == {p.a[1], p.b[1]}
    both = browser.get(url, params={"q": "zebra", "filter": [f"metric.{exact}:fail", "source:github"]})
    assert set(shown(both)) == {p.b[1]}
    # Without script, pills are typed space-separated into one field.
    typed = browser.get(url, params={"pills": f"source:github  metric.{exact}:fail"})
    assert set(shown(typed)) == {p.b[1]}
    assert 'name="filter" value="source:github"' in typed.text  # shown as chips
    without = html.unescape(re.search(r'href="([^"]+)" aria-label="Remove filter source:github"', typed.text)[1])
    assert set(shown(browser.get(f"{server.url}{without}"))) == {p.a[4], p.a[5], p.b[1]}


def test_a_bad_pill_is_a_400_page_naming_it(server, browser, records_project):
    url = records_project.url(server)
    for params, named in (
        ({"filter": "colour:red"}, "colour"),
        ({"pills": "source:api nonsense"}, "nonsense"),
        ({"filter": "created>:yesterday"}, "yesterday"),
        ({"filter": "metric.abc:pass"}, "metric.abc"),
    ):
        response = browser.get(url, params=params)
        assert response.status_code == 400, params
        assert named in html.unescape(response.text) and 'role="alert"' in response.text, params


def test_pages_follow_the_cursor_newest_first(server, browser, client, records_project):
    p = records_project
    run = client.post(f"/projects/{p.project['id']}/runs", {"metricIds": []})
    items = [{"inputs": {"n": i}, "outputs": {"n": i}} for i in range(50)]
    more = [int(r["id"]) for r in client.post(f"/runs/{run['id']}/records/batch", {"items": items})["items"]]
    everything = sorted({*p.every, *more}, reverse=True)

    first = browser.get(p.url(server))
    assert shown(first) == everything[:50] and "Next page →" in first.text
    next_url = html.unescape(re.search(r'href="([^"]+)">Next page →', first.text)[1])
    second = browser.get(f"{server.url}{next_url}")
    assert shown(second) == everything[50:] and "Next page →" not in second.text and "← Newest" in second.text

    filtered = browser.get(p.url(server), params={"filter": f"run:{run['id']}"})
    assert shown(filtered) == sorted(more, reverse=True) and "Next page →" not in filtered.text


def test_columns_are_chosen_ordered_and_remembered(server, browser, records_project):
    url = records_project.url(server)
    page = browser.get(url).text
    assert 'value="inputs.question"' in page and 'value="outputs.answer"' in page
    chosen = browser.get(url, params={"columns_set": "1", "column": ["outputs.answer", "inputs.question"]})
    headings = re.findall(r'<th class="field">([^<]+)</th>', chosen.text)
    assert headings == ["outputs.answer", "inputs.question"]
    assert "which zebra?" in chosen.text
    # The choice is remembered for this project's page.
    again = browser.get(url, params={"filter": "source:api"})
    assert re.findall(r'<th class="field">([^<]+)</th>', again.text) == ["outputs.answer", "inputs.question"]
    cleared = browser.get(url, params={"columns_set": "1"})
    assert '<th class="field">' not in cleared.text
    bad = browser.get(url, params={"columns_set": "1", "column": "secrets.x"})
    assert bad.status_code == 400 and "`column`" in html.unescape(bad.text)


def _score_ids(server, record_ids) -> dict[tuple[int, str], int]:
    with Session(server.app.extensions["scorecard.engine"]) as session:
        scores = session.exec(select(Score).where(col(Score.record_id).in_(list(record_ids))))
        return {(s.record_id, s.metric_version_id): s.id for s in scores}


def test_bulk_rescore_queues_the_ticked_and_the_filtered(server, browser, client, records_project):
    p = records_project
    url = p.url(server)
    token = csrf_token(browser.get(url).text)
    before = _score_ids(server, p.every)

    ticked = browser.post(
        f"{url}/rescore",
        data={"csrf_token": token, "scope": "ticked", "record_id": [p.a[0], p.a[4]], "metric_id": [p.exact["id"]]},
    )
    assert ticked.status_code == 200 and ticked.url == url
    assert "Queued 2 score(s) of 2 record(s) across 1 run(s)" in html.unescape(ticked.text)
    after = _score_ids(server, p.every)
    renewed = {key[0] for key, score_id in after.items() if before.get(key) != score_id}
    assert renewed == {p.a[0], p.a[4]}
    assert wait_for_run(client, p.run_a["id"])["statusDetail"]["metrics"][0]["scored"] == 6

    # All records the filter matches: run B's three, for both of its metrics.
    everything = browser.post(
        f"{url}/rescore",
        data={
            "csrf_token": token,
            "scope": "all",
            "filter": "source:github",
            "metric_id": [p.exact["id"], p.reviewer["id"]],
        },
    )
    assert "Queued 6 score(s) of 3 record(s) across 1 run(s)" in html.unescape(everything.text)
    assert everything.url.endswith("?filter=source%3Agithub")
    renewed = {key[0] for key, score_id in _score_ids(server, p.every).items() if after.get(key) != score_id}
    assert renewed == set(p.b)

    # A metric changed since run A was scored: run A moves to the new version whole.
    client.patch(
        f"/metrics/{p.exact['id']}", {"evalType": "heuristic", "outputType": "boolean", "guidelines": "changed"}
    )
    changed = browser.post(
        f"{url}/rescore",
        data={"csrf_token": token, "scope": "ticked", "record_id": [p.a[1]], "metric_id": [p.exact["id"]]},
    )
    message = html.unescape(changed.text)
    assert "Queued 6 score(s) of 1 record(s)" in message and f"Run #{p.run_a['id']} is re-scored whole" in message

    for data, problem in (
        ({"scope": "ticked", "metric_id": [p.exact["id"]]}, "tick the records"),
        ({"scope": "ticked", "record_id": [p.a[0]]}, "Choose at least one metric"),
        ({"scope": "all", "filter": "run:999999", "metric_id": [p.exact["id"]]}, "No records match"),
        ({"scope": "all", "filter": "bogus:1", "metric_id": [p.exact["id"]]}, "bogus"),
    ):
        refused = browser.post(f"{url}/rescore", data={"csrf_token": token, **data})
        assert refused.status_code == 400 and problem in html.unescape(refused.text), data
    forged = browser.post(f"{url}/rescore", data={"scope": "all", "metric_id": [p.exact["id"]]})
    assert forged.status_code == 403


def _csv(browser, url, **params) -> list[dict]:
    response = browser.get(f"{url}/export.csv", params=params)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def test_csv_of_a_filter_is_the_filtered_set(server, browser, records_project):
    p = records_project
    url = p.url(server)
    pill = f"metric.{p.exact['id']}:fail"
    rows = _csv(browser, url, filter=pill)
    assert [int(r["recordId"]) for r in rows] == shown(browser.get(url, params={"filter": pill}))
    assert {int(r["recordId"]) for r in rows} == {p.a[4], p.a[5], p.b[1]}
    assert {r["Exact result"] for r in rows} == {"fail"}
    by_id = {int(r["recordId"]): r for r in rows}
    assert by_id[p.b[1]]["Reviewer result"] == "pending" and by_id[p.a[4]]["Reviewer result"] == ""
    assert by_id[p.b[1]]["source"] == "github" and by_id[p.b[1]]["runId"] == str(p.run_b["id"])
    assert HOSTILE in by_id[p.a[4]]["outputs"]

    everything = _csv(browser, url)
    assert {int(r["recordId"]) for r in everything} == p.every
    searched = _csv(browser, url, q="zebra", filter="source:api")
    assert [int(r["recordId"]) for r in searched] == [p.a[1]]
    assert browser.get(f"{url}/export.csv", params={"filter": "nope:1"}).status_code == 400
