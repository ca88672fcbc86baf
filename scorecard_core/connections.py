"""A project's GitHub connection: which repository and workflow to dispatch, which triggers are
on, and how to authenticate. Secrets go in and never come out.

One schema and one set of rules for every way a connection is made: the REST API's
``PUT /projects/{id}/github``, ``scorecard github connect``, and the standalone webhook service's
connections file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError
from sqlmodel import Session, select

from .bodies import Body, NumericId
from .comparison import DEFAULT_ALPHA
from .errors import InvalidField, NotFound
from .gate import MAX_ALPHA, MIN_ALPHA, parse_fail_under, parse_margin
from .ids import MAX_ID, parse_id
from .models import GitHubConnection, Project, utcnow
from .runs import load_metrics
from .settings import InvalidSetting

REPO_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"


class ConnectionUpsert(Body):
    repo: str = Field(pattern=REPO_PATTERN, max_length=200)
    branch: str = Field(default="main", min_length=1, max_length=250)
    workflow: str = Field(default="scorecard-eval.yml", min_length=1, max_length=250)
    event_type: str = Field(default="start-evaluation", min_length=1, max_length=100)
    dispatch: Literal["workflow_dispatch", "repository_dispatch"] = "workflow_dispatch"
    on_kickoff: bool = True
    on_pull_request: bool = False
    on_merge: bool = False
    testset_id: NumericId | None = None
    metric_ids: list[NumericId] = []
    system_version_id: str | None = None
    fail_under: str = ""
    # The rest of the commit status's gate, as the Action's inputs of the same names.
    fail_under_mode: Literal["point", "lower-bound"] = "point"
    fail_on_regression: bool = False
    regression_margin: str = Field(default="", max_length=100)
    alpha: float = Field(default=DEFAULT_ALPHA, ge=MIN_ALPHA, le=MAX_ALPHA)
    auth: Literal["default", "token", "app"] = "default"
    token: str | None = Field(default=None, min_length=1)
    app_id: str | None = Field(default=None, pattern=r"^\d+$")
    # GitHub's installation IDs, like ours, fit a 64-bit key column.
    installation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    private_key: str | None = Field(default=None, min_length=1)


def wire(connection: GitHubConnection) -> dict[str, Any]:
    """The connection as the API shows it: secrets only as whether they are set."""
    return {
        "projectId": str(connection.project_id),
        "repo": connection.repo,
        "branch": connection.branch,
        "workflow": connection.workflow,
        "eventType": connection.event_type,
        "dispatch": connection.dispatch,
        "onKickoff": connection.on_kickoff,
        "onPullRequest": connection.on_pull_request,
        "onMerge": connection.on_merge,
        "testsetId": str(connection.testset_id) if connection.testset_id else None,
        "metricIds": [str(i) for i in connection.metric_ids or []],
        "systemVersionId": connection.system_version_id,
        "failUnder": connection.fail_under,
        "failUnderMode": connection.fail_under_mode,
        "failOnRegression": connection.fail_on_regression,
        "regressionMargin": connection.regression_margin or "",
        "alpha": connection.alpha,
        "auth": connection.auth,
        "appId": connection.app_id,
        "installationId": connection.installation_id,
        "hasToken": bool(connection.token),
        "hasPrivateKey": bool(connection.private_key),
    }


def find_connection(session: Session, project_id: int) -> GitHubConnection | None:
    return session.exec(select(GitHubConnection).where(GitHubConnection.project_id == project_id)).first()


def save_connection(session: Session, project_id: int, body: ConnectionUpsert) -> GitHubConnection:
    """Create or replace the project's connection."""
    if session.get(Project, project_id) is None:
        raise NotFound.of("project", project_id)
    connection = find_connection(session, project_id) or GitHubConnection(
        project_id=project_id, repo=body.repo, metric_ids=[]
    )
    values = body.model_dump(exclude={"token", "private_key"})
    values["metric_ids"] = [m.id for m in load_metrics(session, project_id, body.metric_ids)]
    for name, value in values.items():
        setattr(connection, name, value)
    # Secrets are replaced only when given, so a client that never saw them can edit the rest.
    if body.token is not None:
        connection.token = body.token
    if body.private_key is not None:
        connection.private_key = body.private_key
    if connection.auth == "token" and not connection.token:
        raise InvalidField("token", "is required when `auth` is `token`")
    if connection.auth == "app" and not (connection.app_id and connection.private_key):
        raise InvalidField("appId", "and `privateKey` are required when `auth` is `app`")
    check_gate(connection.fail_under, connection.regression_margin)
    if (connection.on_pull_request or connection.on_merge) and not (connection.testset_id and connection.metric_ids):
        raise InvalidField("testsetId", "and `metricIds` are required for pull-request and merge triggers")
    connection.updated_at = utcnow()
    session.add(connection)
    session.flush()
    return connection


def check_gate(fail_under: str, regression_margin: str | None) -> None:
    """The gate's free-text fields by the same rules as the Action's inputs, errors naming the
    connection's fields (the schema checks the rest)."""
    for name, parse, value in (
        ("failUnder", parse_fail_under, fail_under),
        ("regressionMargin", parse_margin, regression_margin),
    ):
        try:
            parse(value)
        except InvalidField as exc:
            raise InvalidField(name, exc.problem) from None


def replace_hosted_connections(session: Session, entries: list[Any]) -> None:
    """Make the stored connections those of ``entries`` (the standalone webhook service's file:
    connection bodies plus the hosted project's ``projectId``), each checked as the API checks
    them. An installation ID learned from GitHub's installation webhooks is kept unless given.
    Hosted projects live elsewhere, so no metric or testset is looked up here."""
    wanted = dict(_hosted_entry(index, entry) for index, entry in enumerate(entries))
    stored = {c.project_id: c for c in session.exec(select(GitHubConnection))}
    for project_id, connection in stored.items():
        if project_id not in wanted:
            session.delete(connection)
    for project_id, values in wanted.items():
        # A row of the same ID only anchors the connection.
        if session.get(Project, project_id) is None:
            session.add(Project(id=project_id, name=f"Scorecard project {project_id}"))
            session.flush()
        connection = stored.get(project_id) or GitHubConnection(project_id=project_id, repo=values["repo"])
        for name, value in values.items():
            setattr(connection, name, value)
        connection.updated_at = utcnow()
        session.add(connection)


def _hosted_entry(index: int, entry: Any) -> tuple[int, dict[str, Any]]:
    project_id = parse_id(str(entry.get("projectId", ""))) if isinstance(entry, dict) else None
    if project_id is None:
        raise InvalidSetting(
            f"connection {index}: `projectId` must be the Scorecard project's numeric ID (0 to {MAX_ID})"
        )
    try:
        body = ConnectionUpsert.model_validate(entry)
    except ValidationError as exc:
        problems = "; ".join(f"`{'.'.join(map(str, e['loc']))}` {e['msg']}" for e in exc.errors())
        raise InvalidSetting(f"connection {index} ({entry.get('repo')}): {problems}") from None
    try:
        check_gate(body.fail_under, body.regression_margin)
    except InvalidField as exc:
        raise InvalidSetting(f"connection {index} ({entry.get('repo')}): {exc.message}") from None
    values = body.model_dump()
    if body.installation_id is None:
        del values["installation_id"]  # keep what GitHub's installation webhooks told us
    return project_id, values
