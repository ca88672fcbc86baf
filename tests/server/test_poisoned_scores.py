"""No poisoned batch: text no database can store (NUL, lone surrogates) never keeps a run scoring,
one unstorable result never blocks the others, and a score is not claimed (and judged, and
billed) again and again: after SCORECARD_SCORING_MAX_ATTEMPTS claims it is an error. On both
databases, over real HTTP, with the real openai client against the fake judge."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from scorecard_core import db
from scorecard_core.client import ScorecardClient
from scorecard_core.scoring.engine import ScoringEngine
from scorecard_core.scoring.judge import JudgeResult
from scorecard_core.settings import InvalidSetting, Settings
from tests.conftest import LiveServer, start_server, wait_for_run
from tests.fakes.openai_server import FakeOpenAI
from tests.server.test_scoring_lifecycle import make_project, metric, scores_by_metric, upload
from tests.support.processes import SCORECARD, create_api_key, free_port, serving
from tests.webhook.test_results import eventually

REPLACED = "\ufffd"


@pytest.fixture
def server(database_url, fake_openai) -> Iterator[LiveServer]:
    """One judge call at a time, so the fake judge's scripted answers go to the calls in order."""
    live = start_server(
        database_url,
        OPENAI_BASE_URL=fake_openai.url,
        OPENAI_API_KEY="test-key",
        SCORING_LEASE_SECONDS=5.0,
        SCORING_CONCURRENCY=1,
    )
    yield live
    live.stop()


def ai_run(client: ScorecardClient, cases: int, prompt: str) -> tuple[dict, dict, list[dict]]:
    project, testset, testcases = make_project(client, cases=cases)
    # No judge cache: records with the same output each take the next scripted answer.
    judge = metric(
        client, project, name="Judge", evalType="ai", outputType="int", promptTemplate=prompt, judgeCache=False
    )
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [judge["id"]]})
    return run, judge, testcases


def test_poisoned_answers_and_outputs_still_complete_the_run(client, fake_openai):
    run, judge, testcases = ai_run(client, cases=5, prompt="A: {{ outputs.answer }} SCORE: 4")
    fake_openai.malformed_next(text='{"reasoning": "escaped \\u0000 and \\ud800", "score": 2}')
    fake_openai.malformed_next(text='{"reasoning": "raw \u0000 and \ud800", "score": 3}')
    fake_openai.truncated_next()  # one record's call reads both unreadable bodies, then a normal answer
    fake_openai.not_json_next()
    upload(client, run, testcases, answer=lambda tc: "a\u0000b" if tc["id"] == testcases[-1]["id"] else "fine")

    done = wait_for_run(client, run["id"], timeout=20)
    assert done["status"] == "completed", done["statusDetail"]
    stored = scores_by_metric(client, run["id"])[judge["id"]]
    scores = sorted((s["score"]["intScore"], s["score"]["reasoning"]) for s in stored)
    assert scores == [
        (2, f"escaped {REPLACED} and {REPLACED}"),
        (3, f"raw {REPLACED} and {REPLACED}"),
        *[(4, "fake judge found SCORE: 4")] * 3,
    ]
    # The system output with a NUL was stored (cleaned) rather than refused, and judged as stored.
    outputs = {r["outputs"]["answer"] for r in client.paginate(f"/runs/{run['id']}/records")}
    assert outputs == {"fine", f"a{REPLACED}b"}
    assert any(f"A: a{REPLACED}b" in r["messages"][-1]["content"] for r in fake_openai.requests)
    assert len(fake_openai.requests) == 7  # five records, two bodies retried: nothing judged again


def test_unusable_answers_with_a_nul_end_the_run_in_error_not_scoring_forever(client, fake_openai):
    run, judge, testcases = ai_run(client, cases=2, prompt="SCORE: 4")
    fake_openai.malformed_next(times=6, text="no score \u0000 here \udc00")
    upload(client, run, testcases)

    done = wait_for_run(client, run["id"], timeout=20)
    assert done["status"] == "error"
    assert "2 of 2 scores failed" in done["error"]
    errors = [s["error"] for s in scores_by_metric(client, run["id"])[judge["id"]]]
    assert len(errors) == 2
    for error in errors:
        assert "gave no usable int score in 3 answers" in error
        assert error.endswith(f"the judge's answer: no score {REPLACED} here {REPLACED}")
    assert len(fake_openai.requests) == 6


def test_a_batch_with_one_unstorable_result_stores_the_others(database_url):
    """A judge (any Judge the engine is given) returns a result no database can store, in the
    same write batch as five good ones: the five are stored, the bad one becomes an error."""
    cases = 6
    live = start_server(database_url, SCORING_ENABLED=False)
    together = threading.Barrier(cases, timeout=20)  # every result reaches the writer at once

    def judge(config: dict[str, Any], *, inputs: Any, outputs: Any, expected: Any) -> JudgeResult:
        together.wait()
        if outputs["answer"] == "poison":
            return JudgeResult(None, "the judge said \ud800")
        return JudgeResult({"intScore": 4, "reasoning": "fine"})

    engine = db.make_engine(database_url)
    scoring = ScoringEngine(engine, judge, concurrency=cases, lease_seconds=2.0, poll_seconds=0.1)
    try:
        client = ScorecardClient(live.api_url, live.new_api_key(), max_retries=0)
        run, judge_metric, testcases = ai_run(client, cases=cases, prompt="SCORE: 4")
        upload(client, run, testcases, answer=lambda tc: "poison" if tc["id"] == testcases[2]["id"] else "ok")
        scoring.start()

        done = wait_for_run(client, run["id"], timeout=20)
        assert done["statusDetail"]["metrics"][0]["scored"] == cases - 1
        assert done["status"] == "error" and f"1 of {cases} scores failed" in done["error"]
        scores = scores_by_metric(client, run["id"])[judge_metric["id"]]
        assert sorted(s["status"] for s in scores) == ["error"] + ["scored"] * (cases - 1)
        [failed] = [s for s in scores if s["status"] == "error"]
        assert failed["error"].startswith("the result could not be stored: UnicodeEncodeError: ")
        assert "surrogates not allowed" in failed["error"]
    finally:
        scoring.stop()
        engine.dispose()
        live.stop()


def test_a_score_whose_scoring_keeps_dying_stops_after_max_attempts(database_url, tmp_path):
    """Each time the judge is asked, the server dies (SIGKILL) before it answers; after the
    second claim the next server gives up on the score instead of asking (and paying) again."""
    key = create_api_key(database_url)
    log = tmp_path / "server.log"
    with FakeOpenAI(delay=30.0) as judge:
        env = {
            "OPENAI_BASE_URL": judge.url,
            "OPENAI_API_KEY": "test-key",
            "SCORECARD_SCORING_LEASE_SECONDS": "1",
            "SCORECARD_SCORING_MAX_ATTEMPTS": "2",
        }
        run = None
        for attempt in (1, 2):
            with serving(database_url, log, env) as process:
                client = ScorecardClient(process.api_url, key, max_retries=0)
                if run is None:
                    run, judge_metric, testcases = ai_run(client, cases=1, prompt="SCORE: 4")
                    upload(client, run, testcases)
                eventually(lambda attempt=attempt: len(judge.requests) == attempt, f"judge call {attempt}")
                process.kill()

        with serving(database_url, log, env) as process:
            client = ScorecardClient(process.api_url, key, max_retries=0)
            done = wait_for_run(client, run["id"], timeout=20)
            assert done["status"] == "error"
            [score] = scores_by_metric(client, run["id"])[judge_metric["id"]]
            assert score["status"] == "error"
            assert score["error"].startswith("gave up after 2 attempts to score it: none stored a result")
            assert len(judge.requests) == 2  # the third server never asked the judge
            process.stop()
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.mark.parametrize("bad", ["0", "-1", "2.5", "three", "101"])
def test_max_attempts_must_be_a_whole_number_from_1_to_100(bad, monkeypatch):
    monkeypatch.setenv("SCORECARD_SCORING_MAX_ATTEMPTS", bad)
    with pytest.raises(
        InvalidSetting, match=f"^SCORECARD_SCORING_MAX_ATTEMPTS must be a whole number from 1 to 100, not '{bad}'$"
    ):
        Settings()


def test_a_bad_max_attempts_is_one_line_from_the_cli(tmp_path):
    env = {**os.environ, "SCORECARD_SCORING_MAX_ATTEMPTS": "0", "SCORECARD_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    served = subprocess.run(
        [str(SCORECARD), "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert served.returncode == 1
    assert served.stderr == "error: SCORECARD_SCORING_MAX_ATTEMPTS must be a whole number from 1 to 100, not '0'\n"
