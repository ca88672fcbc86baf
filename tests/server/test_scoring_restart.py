"""A server killed in the middle of scoring finishes the run after it restarts: no score is lost
and none is doubled. The database is the queue; expired leases are claimed again."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, func, select

from scorecard_core.client import ScorecardClient
from scorecard_core.models import Score
from tests.conftest import wait_for_run
from tests.fakes.openai_server import FakeOpenAI
from tests.server.test_scoring_lifecycle import make_project, metric, upload
from tests.support.processes import create_api_key, serving

CASES = 40


def test_scoring_survives_a_crash(sqlite_url, tmp_path):
    key = create_api_key(sqlite_url)
    with FakeOpenAI(delay=0.25) as judge:
        env = {
            "OPENAI_BASE_URL": judge.url,
            "OPENAI_API_KEY": "test-key",
            "SCORECARD_SCORING_CONCURRENCY": "4",
            "SCORECARD_SCORING_LEASE_SECONDS": "2",
        }
        log = tmp_path / "server.log"
        with serving(sqlite_url, log, env) as first:
            client = ScorecardClient(first.api_url, key, max_retries=0)
            project, testset, testcases = make_project(client, cases=CASES)
            ai = metric(
                client, project, name="Judge", evalType="ai", outputType="boolean", promptTemplate="VERDICT: pass"
            )
            run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [ai["id"]]})
            upload(client, run, testcases)
            midway = wait_for_run(client, run["id"], statuses=("running_scoring",))
            while client.get(f"/runs/{run['id']}")["numScores"] < 4:
                time.sleep(0.05)
            first.kill()

        engine = create_engine(sqlite_url)
        with engine.connect() as conn:
            done_at_crash = conn.execute(select(func.count()).where(Score.status == "scored")).scalar_one()
        assert 0 < done_at_crash < CASES, midway

        with serving(sqlite_url, log, env) as second:
            client = ScorecardClient(second.api_url, key, max_retries=0)
            finished = wait_for_run(client, run["id"], timeout=60)
            assert finished["status"] == "completed", finished["statusDetail"]
            assert finished["numScores"] == CASES
            second.stop()

        with engine.connect() as conn:
            rows = conn.execute(select(Score.record_id, Score.status)).all()
        engine.dispose()
        assert len(rows) == CASES and len({r.record_id for r in rows}) == CASES
        assert {r.status for r in rows} == {"scored"}
        assert "Traceback" not in log.read_text(errors="replace")
