"""What the webhook service needs from Scorecard, two ways: our own database when mounted in our
server, or any Scorecard API over REST when it runs on its own against hosted Scorecard.

Both speak the v2 wire JSON, so everything downstream (dispatch payloads, the shared PR comment
renderer) works the same on either."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import select

from scorecard_core import runs as run_logic
from scorecard_core import wire
from scorecard_core.client import ScorecardClient
from scorecard_core.db import session_scope
from scorecard_core.models import GitHubConnection, Record, Run, Score
from scorecard_core.scoring.lifecycle import FINISHED, fail_run


class Scorecard(Protocol):
    def create_run(
        self,
        project_id: str,
        testset_id: str,
        metric_ids: list[str],
        system_version_id: str | None,
        source: str,
        git: dict[str, Any],
    ) -> dict[str, Any]: ...

    def get_run(self, run_id: str) -> dict[str, Any]: ...

    def update_git(self, run_id: str, git: dict[str, Any]) -> None: ...

    def fail_run(self, run_id: str, message: str) -> bool:
        """End the run with an error; True when the caller should publish it (it ended it)."""

    def report_data(self, run_id: str) -> tuple[dict, dict[str, dict], list[dict]]:
        """The run, its metrics by ID, and its records with scores: what the renderer needs."""
        ...

    def baseline_run(self, run: dict[str, Any], ref: str) -> dict[str, Any] | None:
        """The latest finished run of ``run``'s testset on git ref ``ref`` (the PR's base branch)."""
        ...


class LocalScorecard:
    """Our own database: the webhook blueprint mounted in our server."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def create_run(self, project_id, testset_id, metric_ids, system_version_id, source, git):
        with session_scope(self.engine) as session:
            run = run_logic.create_run(
                session,
                int(project_id),
                [int(m) for m in metric_ids],
                testset_id=int(testset_id),
                system_version_id=system_version_id,
                source=source,
                git=git,
            )
            return wire.run(run)

    def get_run(self, run_id):
        with session_scope(self.engine) as session:
            return wire.run(run_logic.get_run(session, int(run_id)))

    def update_git(self, run_id, git):
        with session_scope(self.engine) as session:
            run_logic.update_run(session, run_logic.get_run(session, int(run_id)), git=git)

    def fail_run(self, run_id, message):
        with session_scope(self.engine) as session:
            return fail_run(session, run_logic.get_run(session, int(run_id)), message)

    def report_data(self, run_id):
        with session_scope(self.engine) as session:
            run = run_logic.get_run(session, int(run_id))
            metrics = {
                str(m.id): wire.metric(m) for m in run_logic.load_metrics(session, run.project_id, run.metric_ids)
            }
            records = session.exec(select(Record).where(Record.run_id == run.id).order_by(Record.id)).all()
            scores: dict[int, list[Score]] = {}
            for score in session.exec(select(Score).where(Score.run_id == run.id)):
                scores.setdefault(score.record_id, []).append(score)
            return wire.run(run), metrics, [wire.record(r, scores.get(r.id, [])) for r in records]

    def baseline_run(self, run, ref):
        if not run.get("testsetId"):
            return None
        with session_scope(self.engine) as session:
            statement = (
                select(Run)
                .where(
                    Run.project_id == int(run["projectId"]),
                    Run.testset_id == int(run["testsetId"]),
                    Run.__table__.c.git["ref"].as_string() == ref,
                    Run.status.in_(FINISHED),
                    Run.id != int(run["id"]),
                )
                .order_by(Run.id.desc())
                .limit(1)
            )
            found = session.exec(statement).first()
            return wire.run(found) if found is not None else None

    def connection(self, project_id: str) -> GitHubConnection | None:
        with session_scope(self.engine) as session:
            return session.exec(select(GitHubConnection).where(GitHubConnection.project_id == int(project_id))).first()

    def runs_for_sha(self, repo: str, sha: str) -> list[dict[str, Any]]:
        """Runs whose git context names this commit (newest first)."""
        with session_scope(self.engine) as session:
            column = Run.__table__.c.git
            statement = (
                select(Run)
                .where(column["sha"].as_string() == sha, column["repo"].as_string() == repo)
                .order_by(Run.id.desc())
            )
            return [wire.run(r) for r in session.exec(statement)]


class RemoteScorecard:
    """Any Scorecard API over REST (hosted Scorecard has none of our extensions: no git
    context, no error status; those calls do nothing there)."""

    def __init__(self, client: ScorecardClient):
        self.client = client

    def create_run(self, project_id, testset_id, metric_ids, system_version_id, source, git):
        body: dict[str, Any] = {"testsetId": testset_id, "metricIds": metric_ids}
        if system_version_id:
            body["systemVersionId"] = system_version_id
        return self.client.post(f"/projects/{project_id}/runs", body)

    def get_run(self, run_id):
        return self.client.get(f"/runs/{run_id}")

    def update_git(self, run_id, git):
        return None

    def fail_run(self, run_id, message):
        return True  # hosted runs cannot be ended from here, and nothing else reports them

    def baseline_run(self, run, ref):
        return None  # hosted Scorecard cannot look runs up by git ref

    def report_data(self, run_id):
        run = self.get_run(run_id)
        metrics = {str(m): self.client.get(f"/metrics/{m}") for m in run.get("metricIds", [])}
        return run, metrics, list(self.client.paginate(f"/runs/{run_id}/records"))
