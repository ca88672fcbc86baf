"""What the webhook service needs from Scorecard, two ways: our own database when mounted in our
server, or any Scorecard API over REST when it runs on its own against hosted Scorecard.

Both speak the v2 wire JSON, so everything downstream (dispatch payloads, the shared PR comment
renderer) works the same on either. Where they differ, the interface says so in what it answers
(``reports_when_scored``, ``fail_run``'s answer), never in which class the handlers hold."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any, Protocol

from sqlalchemy import func, or_
from sqlalchemy.engine import Engine
from sqlmodel import select

from scorecard_core import runs as run_logic
from scorecard_core import wire
from scorecard_core.client import ScorecardClient
from scorecard_core.connections import find_connection
from scorecard_core.db import session_scope
from scorecard_core.export import records_with_scores
from scorecard_core.models import GitHubConnection, Run
from scorecard_core.run_status import FINISHED
from scorecard_core.scorecard_api import ScorecardApi
from scorecard_core.scoring.lifecycle import fail_run

# How far back a project's runs are searched for the one an Actions run filled, where the API
# cannot search them by git context.
RECENT_RUNS = 100


class Scorecard(Protocol):
    reports_when_scored: bool
    """True when Scorecard publishes a run's results itself once scoring ends (our server's
    scoring engine does); False when it tells nobody (hosted Scorecard), so whoever saw the
    workflow succeed waits for the scores and publishes them."""

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
        ...

    def report_data(self, run_id: str) -> tuple[dict, dict[str, dict], Iterable[dict]]:
        """The run, its metrics by ID, and its records with scores, to be read once (they may
        stream page by page): what the renderer needs."""
        ...

    def baseline_run(self, run: dict[str, Any], ref: str) -> dict[str, Any] | None:
        """The latest finished run of ``run``'s testset on git ref ``ref`` (the PR's base branch)."""
        ...

    def connection(self, project_id: str) -> GitHubConnection | None:
        """The project's GitHub connection."""
        ...

    def runs_for_actions_run(
        self, repo: str, actions_run: dict[str, Any], project_ids: Collection[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        """(project ID, run) pairs of these projects that may be the Actions run's: runs that name
        it or its commit, or, where runs cannot be searched, each project's latest runs."""
        ...


def connection_in(engine: Engine, project_id: str) -> GitHubConnection | None:
    with session_scope(engine) as session:
        return find_connection(session, int(project_id))


class LocalScorecard:
    """Our own database: the webhook blueprint mounted in our server."""

    reports_when_scored = True  # the scoring engine publishes each run it finishes

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
            return wire.run(run), metrics, self._wire_records(int(run_id))

    def _wire_records(self, run_id: int) -> Iterator[dict[str, Any]]:
        """The run's records as the API lists them, read a page at a time as the report uses
        them (a run may hold 100k records); the stream owns its session."""
        with session_scope(self.engine) as session:
            for record, scores in records_with_scores(session, run_id):
                yield wire.record(record, scores)

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
                    Run.status.in_(sorted(FINISHED)),
                    Run.id != int(run["id"]),
                )
                .order_by(Run.id.desc())
                .limit(1)
            )
            found = session.exec(statement).first()
            return wire.run(found) if found is not None else None

    def connection(self, project_id):
        return connection_in(self.engine, project_id)

    def runs_for_actions_run(self, repo, actions_run, project_ids):
        git = Run.__table__.c.git
        same_repo = func.lower(git["repo"].as_string()) == repo.lower()
        linked = git["actionsRunUrl"].as_string().like(f"%/actions/runs/{actions_run['id']}")
        same_commit = (git["repo"].as_string() == repo) & (git["sha"].as_string() == actions_run["head_sha"])
        statement = (
            select(Run)
            .where(or_(same_repo & linked, same_commit), Run.project_id.in_([int(p) for p in project_ids]))
            .order_by(Run.id.desc())
        )
        with session_scope(self.engine) as session:
            return [(str(r.project_id), wire.run(r)) for r in session.exec(statement)]


class RemoteScorecard:
    """Any Scorecard API over REST, with the GitHub connections in the service's own database
    (``connections``): hosted Scorecard keeps none. Hosted Scorecard has none of our extensions
    either (no git context, no error status, no search by git ref); those calls do nothing there."""

    reports_when_scored = False  # hosted Scorecard tells nobody when scoring ends

    def __init__(self, client: ScorecardClient, connections: Engine):
        self.api = ScorecardApi(client)
        self.connections = connections

    def create_run(self, project_id, testset_id, metric_ids, system_version_id, source, git):
        return self.api.create_run(
            project_id,
            testset_id=testset_id,
            metric_ids=metric_ids,
            system_version_id=system_version_id,
            source=source,
            git=git,
        )

    def get_run(self, run_id):
        return self.api.get_run(run_id)

    def update_git(self, run_id, git):
        self.api.update_git(run_id, git)

    def fail_run(self, run_id, message):
        return True  # hosted runs cannot be ended from here, and nothing else reports them

    def report_data(self, run_id):
        return self.api.report_data(run_id)

    def baseline_run(self, run, ref):
        if not (run.get("projectId") and run.get("testsetId")):
            return None  # hosted runs do not say their project; nor could it look runs up by ref
        return self.api.baseline_run(run["projectId"], run["testsetId"], ref, excluding=run["id"])

    def connection(self, project_id):
        return connection_in(self.connections, project_id)

    def runs_for_actions_run(self, repo, actions_run, project_ids):
        return [(p, run) for p in project_ids for run in self.api.recent_runs(p, RECENT_RUNS)]
