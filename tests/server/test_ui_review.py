"""Human review on a record's page over HTTP: forms for the pending human metrics, scores stored
as the API stores them and named after the signed-in key, refusals that name the field and keep
what was typed, the next record awaiting review after each save, and the empty queue said."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import wait_for_run

from .test_ui import browser, csrf_token, data_dir, text_of  # noqa: F401  (fixtures: a signed-in session, the UI secret key)

EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}


@dataclass
class Review:
    project: dict
    run: dict
    records: list[dict]
    versions: dict[str, str]  # metric name -> metric version ID

    def record_path(self, index: int) -> str:
        return f"/projects/{self.project['id']}/runs/{self.run['id']}/records/{self.records[index]['id']}"

    def score_path(self, index: int, metric: str) -> str:
        return f"{self.record_path(index)}/scores/{self.versions[metric]}"


def seed_review(client, records: int = 3) -> Review:
    """A run with an automatic metric and one human metric of each output type, awaiting people."""
    project = client.post("/projects", {"name": "review"})
    specs = [
        ("Exact", "heuristic", "boolean", {"heuristic": EXACT}),
        ("Polite", "human", "boolean", {}),
        ("Helpful", "human", "int", {}),
        ("Faithful", "human", "float", {"passingThreshold": 0.5}),
    ]
    metric_ids = [
        client.post(
            f"/projects/{project['id']}/metrics",
            {"name": name, "evalType": kind, "outputType": output, "guidelines": "", **extra},
        )["id"]
        for name, kind, output, extra in specs
    ]
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": metric_ids})
    items = [
        {"inputs": {"q": f"q{i}"}, "expected": {"answer": "a"}, "outputs": {"answer": "a"}} for i in range(records)
    ]
    created = client.post(f"/runs/{run['id']}/records/batch", {"items": items})["items"]
    client.patch(f"/runs/{run['id']}", {"status": "awaiting_scoring"})
    run = wait_for_run(client, run["id"], statuses=("awaiting_human_scoring",))
    versions = {name: version for (name, *_), version in zip(specs, run["metricVersionIds"])}
    return Review(project, run, created, versions)


@pytest.fixture
def review(client) -> Review:
    return seed_review(client)


def scores_of(client, review: Review, index: int) -> dict[str, dict]:
    """The record's given scores by metric name, through the API (which lists no pending ones)."""
    listed = client.get(f"/runs/{review.run['id']}/records")["data"]
    record = next(r for r in listed if r["id"] == review.records[index]["id"])
    names = {v: k for k, v in review.versions.items()}
    return {names[s["metricConfigId"]]: s for s in record["scores"]}


def post(browser, server, path: str, page: str, **fields: str):
    return browser.post(f"{server.url}{path}", data={"csrf_token": csrf_token(page), **fields}, allow_redirects=False)


def test_the_record_page_offers_a_form_for_each_pending_human_metric(server, browser, review):
    page = browser.get(f"{server.url}{review.record_path(0)}").text
    for metric in ("Polite", "Helpful", "Faithful"):
        assert f'action="{review.score_path(0, metric)}"' in page
    assert review.versions["Exact"] not in page.split("<h2>Scores</h2>")[1].split("action=")[-1]
    assert page.count(" autofocus") == 1  # in the first form awaiting a score: Polite's pass
    assert 'value="pass" data-keys="p 1" required autofocus' in page
    assert "/static/review.js" in page
    assert f"/projects/{review.project['id']}/records?filter=review%3Apending" in page  # the review queue


def test_scores_are_stored_as_the_signed_in_key_and_lead_to_the_next_record(server, browser, client, review):
    page = browser.get(f"{server.url}{review.record_path(0)}").text
    answers = {"Polite": "pass", "Helpful": "4", "Faithful": "0.25"}
    for metric, value in answers.items():
        response = post(browser, server, review.score_path(0, metric), page, value=value, reasoning=f"why {metric}")
        assert response.status_code == 302, text_of(response.text)
        page = browser.get(f"{server.url}{response.headers['Location']}").text
    # The first record is done: the last save went on to the next record awaiting review.
    assert response.headers["Location"] == review.record_path(1)
    assert "Saved the score of Faithful for record" in text_of(page)
    stored = scores_of(client, review, 0)
    assert stored["Polite"]["score"] == {"binaryScore": True, "reasoning": "why Polite"}
    assert stored["Helpful"]["score"] == {"intScore": 4, "reasoning": "why Helpful"}
    assert stored["Faithful"]["score"] == {"floatScore": 0.25, "reasoning": "why Faithful"}
    assert {s["userId"] for name, s in stored.items() if name != "Exact"} == {"test"}  # the key's name
    # Given scores can be changed from the same page.
    first = browser.get(f"{server.url}{review.record_path(0)}").text
    assert "Change score" in first and "scored by test" in text_of(first)
    changed = post(browser, server, review.score_path(0, "Polite"), first, value="fail", reasoning="")
    assert changed.status_code == 302
    assert scores_of(client, review, 0)["Polite"]["score"] == {"binaryScore": False}


@pytest.mark.parametrize(
    ("metric", "value", "message"),
    [
        ("Helpful", "7", "Helpful: score must be a whole number from 1 to 5, got '7'"),
        ("Helpful", "", "Helpful: score must be a whole number from 1 to 5, got 'nothing'"),
        ("Faithful", "1.5", "Faithful: score must be a number from 0 to 1, e.g. 0.75, got '1.5'"),
        ("Faithful", "nan", "Faithful: score must be a number from 0 to 1, e.g. 0.75, got 'nan'"),
        ("Polite", "maybe", "Polite: score is required: choose pass or fail"),
    ],
)
def test_a_bad_score_shows_the_form_again_naming_the_field_with_nothing_lost(
    server, browser, client, review, metric, value, message
):
    page = browser.get(f"{server.url}{review.record_path(0)}").text
    response = post(browser, server, review.score_path(0, metric), page, value=value, reasoning="kept <b>text</b>")
    assert response.status_code == 400
    shown = text_of(response.text)
    assert message in shown and "Nothing was saved" in shown
    assert "kept &lt;b&gt;text&lt;/b&gt;</textarea>" in response.text  # what was typed, escaped
    assert metric not in scores_of(client, review, 0)  # still pending


def test_automatic_metrics_and_forged_posts_are_refused(server, browser, client, review):
    page = browser.get(f"{server.url}{review.record_path(0)}").text
    automatic = post(browser, server, review.score_path(0, "Exact"), page, value="pass")
    assert automatic.status_code == 400
    assert "not one people score in this run" in text_of(automatic.text)
    forged = browser.post(f"{server.url}{review.score_path(0, 'Polite')}", data={"value": "pass"})
    assert forged.status_code == 403
    assert "Polite" not in scores_of(client, review, 0)  # still pending


def test_the_last_score_says_the_queue_is_empty_and_completes_the_run(server, browser, client):
    review = seed_review(client, records=1)
    page = browser.get(f"{server.url}{review.record_path(0)}").text
    for metric, value in {"Polite": "fail", "Helpful": "2", "Faithful": "1"}.items():
        response = post(browser, server, review.score_path(0, metric), page, value=value)
        assert response.status_code == 302
    assert response.headers["Location"] == review.record_path(0)
    shown = text_of(browser.get(f"{server.url}{review.record_path(0)}").text)
    assert f"The review queue of run #{review.run['id']} is empty" in shown
    assert client.get(f"/runs/{review.run['id']}")["status"] == "completed"
