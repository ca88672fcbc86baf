"""What each GitHub operation does to the fake's :class:`World`, keyed by the spec's operationId.

The HTTP layer has already matched the route, authenticated the caller and checked the request
against the spec; handlers decide visibility (private repositories are 404 to outsiders),
permissions (a token without ``pull_requests: write`` gets GitHub's 403) and GitHub's own rules
that the spec does not state (comment bodies up to 65536 characters, status descriptions up to 140).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from tests.fakes.github_model import (
    LEVELS,
    App,
    CheckRun,
    Comment,
    Dispatch,
    Pull,
    Reaction,
    Repo,
    Status,
    Token,
    User,
    Workflow,
    WorkflowDispatch,
    World,
    now_iso,
)
from tests.fakes.github_payloads import Payloads

# the token permissions (any one of them, at write) a write needs; a user's classic PAT has them all
WRITE_SCOPES = {
    "issues/create-comment": ("issues", "pull_requests"),
    "issues/update-comment": ("issues", "pull_requests"),
    "issues/delete-comment": ("issues", "pull_requests"),
    "reactions/create-for-issue-comment": ("issues", "pull_requests"),
    "repos/create-commit-status": ("statuses",),
    "repos/create-dispatch-event": ("contents",),
    "actions/create-workflow-dispatch": ("actions",),
    "checks/create": ("checks",),
    "checks/update": ("checks",),
}
# writes a user (not a bot, whose reach is its token's permissions) may do only with push access
PUSH_ONLY = {
    "repos/create-commit-status",
    "repos/create-dispatch-event",
    "actions/create-workflow-dispatch",
    "checks/create",
    "checks/update",
}
COMMENT_BODY_LIMIT = 65536
STATUS_DESCRIPTION_LIMIT = 140


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass(frozen=True)
class Caller:
    user: User | None = None  # None: anonymous, or an app authenticated by its JWT
    token: Token | None = None
    app: App | None = None

    @property
    def login(self) -> str:
        if self.user is None:
            raise ApiError(401, "Requires authentication")
        return self.user.login


@dataclass(frozen=True)
class Call:
    operation_id: str
    path: str
    params: dict[str, Any]
    query: dict[str, Any]
    raw_query: list[tuple[str, str]]
    body: Any
    caller: Caller
    rate: tuple[int, int, int]  # the caller's limit, used and reset (epoch seconds)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["Operations", Call], Reply]
HANDLERS: dict[str, Handler] = {}


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[operation_id] = handler
        return handler

    return register


class Operations:
    def __init__(self, world: World, payloads: Payloads) -> None:
        self.world = world
        self.payloads = payloads

    def answer(self, call: Call) -> Reply:
        return HANDLERS[call.operation_id](self, call)

    # -- apps and the caller ---------------------------------------------------------------------

    @handles("apps/create-installation-access-token")
    def create_installation_token(self, call: Call) -> Reply:
        installation = self.world.installations.get(call.params["installation_id"])
        if installation is None or call.caller.app is None or installation.app_id != call.caller.app.id:
            raise ApiError(404, "Not Found")
        body = call.body or {}
        granted = installation.permissions
        requested = body.get("permissions") or granted
        if any(granted.get(scope) not in (level, "write") for scope, level in requested.items()):
            raise ApiError(422, "The permissions requested are not granted to this installation.")
        by_id = {repo.id: repo.full_name for repo in self.world.repos.values()}
        wanted = [f"{installation.account}/{name}" for name in body.get("repositories", [])]
        wanted += [by_id.get(repo_id, "") for repo_id in body.get("repository_ids", [])]
        if not all(name.lower() in self.world.repos and installation.covers(name) for name in wanted):
            raise ApiError(
                422,
                "There is at least one repository that does not exist or is not accessible to the parent installation.",
            )
        repositories = frozenset(name.lower() for name in wanted) if wanted else installation.repositories
        token = self.world.issue_installation_token(installation, dict(requested), repositories)
        return Reply(
            201,
            {
                "token": token.value,
                "expires_at": token.expires_at,
                "permissions": token.permissions,
                "repository_selection": "all" if repositories is None else "selected",
            },
        )

    @handles("apps/get-repo-installation")
    def get_repo_installation(self, call: Call) -> Reply:
        repo = self.world.repos.get(f"{call.params['owner']}/{call.params['repo']}".lower())
        app = call.caller.app
        found = [
            i
            for i in self.world.installations.values()
            if repo is not None and app is not None and i.app_id == app.id and i.covers(repo.full_name)
        ]
        if not found:
            raise ApiError(404, "Not Found")
        return Reply(200, self.payloads.installation(found[0]))

    @handles("rate-limit/get")
    def rate_limit(self, call: Call) -> Reply:
        return Reply(200, self.payloads.rate_limit(*call.rate))

    @handles("users/get-authenticated")
    def authenticated_user(self, call: Call) -> Reply:
        if call.caller.user is not None and call.caller.user.type == "Bot":
            raise ApiError(403, "Resource not accessible by integration")  # as for GITHUB_TOKEN
        return Reply(200, self.payloads.user(call.caller.login))

    # -- repositories and pull requests ----------------------------------------------------------

    @handles("repos/get")
    def get_repo(self, call: Call) -> Reply:
        return Reply(200, self.payloads.repository(self.visible_repo(call)))

    @handles("repos/get-collaborator-permission-level")
    def collaborator_permission(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        if call.params["username"].lower() not in self.world.users:
            raise ApiError(404, "Not Found")
        return Reply(200, self.payloads.collaborator_permission(repo, call.params["username"]))

    @handles("pulls/get")
    def get_pull(self, call: Call) -> Reply:
        return Reply(200, self.payloads.pull(self.pull(call, call.params["pull_number"])))

    @handles("pulls/list")
    def list_pulls(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        state = call.query.get("state", "open")
        head = call.query.get("head")
        head_owner, _, head_ref = head.rpartition(":") if head else ("", "", "")
        pulls = [
            p
            for p in self.pulls_of(repo)
            if state in ("all", p.state)
            and (
                not head
                or (p.head_ref == head_ref and p.head_repo.split("/")[0].lower() == (head_owner or repo.owner).lower())
            )
            and call.query.get("base", p.base_ref) == p.base_ref
        ]
        pulls.sort(key=lambda p: p.number, reverse=call.query.get("direction", "desc") == "desc")
        return self.paginate(call, repo, [self.payloads.pull(p, detailed=False) for p in pulls])

    @handles("repos/list-pull-requests-associated-with-commit")
    def pulls_of_commit(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        pulls = [p for p in self.pulls_of(repo) if p.head_sha == call.params["commit_sha"]]
        return self.paginate(call, repo, [self.payloads.pull(p, detailed=False) for p in pulls])

    # -- issue comments and reactions ------------------------------------------------------------

    @handles("issues/list-comments")
    def list_comments(self, call: Call) -> Reply:
        pull = self.pull(call, call.params["issue_number"])
        since = call.query.get("since", "")
        comments = [
            c
            for c in self.world.comments.values()
            if c.repo == pull.repo and c.issue_number == pull.number and c.updated_at >= since
        ]
        return self.paginate(call, self.world.repo(pull.repo), [self.payloads.comment(c) for c in comments])

    @handles("issues/create-comment")
    def create_comment(self, call: Call) -> Reply:
        pull = self.pull(call, call.params["issue_number"])
        self.authorize_write(call, self.world.repo(pull.repo))
        comment = self.world.add_comment(pull.repo, pull.number, self.comment_body(call), call.caller.login)
        payload = self.payloads.comment(comment)
        return Reply(201, payload, {"Location": payload["url"]})

    @handles("issues/update-comment")
    def update_comment(self, call: Call) -> Reply:
        comment = self.writable_comment(call)
        body = self.comment_body(call)
        self.world.comments[comment.id] = replace(comment, body=body, updated_at=now_iso())
        return Reply(200, self.payloads.comment(self.world.comments[comment.id]))

    @handles("issues/delete-comment")
    def delete_comment(self, call: Call) -> Reply:
        del self.world.comments[self.writable_comment(call).id]
        return Reply(204)

    @handles("reactions/create-for-issue-comment")
    def react(self, call: Call) -> Reply:
        comment = self.writable_comment(call)
        content = call.body["content"]
        for reaction in self.world.reactions:
            if (reaction.comment_id, reaction.content, reaction.user) == (comment.id, content, call.caller.login):
                return Reply(200, self.payloads.reaction(reaction))  # GitHub answers 200 for a repeat
        reaction = Reaction(self.world.next_id(), comment.id, content, call.caller.login, now_iso())
        self.world.reactions.append(reaction)
        return Reply(201, self.payloads.reaction(reaction))

    # -- statuses and checks ---------------------------------------------------------------------

    @handles("repos/create-commit-status")
    def create_status(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        self.authorize_write(call, repo)
        description = call.body.get("description")
        if description is not None and len(description) > STATUS_DESCRIPTION_LIMIT:
            raise _too_long("Status", "description", STATUS_DESCRIPTION_LIMIT)
        status = Status(
            self.world.next_id(),
            repo.full_name,
            call.params["sha"],
            call.body["state"],
            call.body.get("context", "default"),
            description,
            call.body.get("target_url"),
            call.caller.login,
            now_iso(),
        )
        self.world.statuses.append(status)
        return Reply(201, self.payloads.status(status))

    @handles("checks/create")
    def create_check_run(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        self.authorize_write(call, repo)
        body = call.body
        completed = "conclusion" in body or body.get("status") == "completed"
        app = next((a for a in self.world.apps.values() if call.caller.login == f"{a.slug}[bot]"), None)
        check = CheckRun(
            self.world.next_id(),
            repo.full_name,
            body["head_sha"],
            body["name"],
            "completed" if completed else body.get("status", "queued"),
            body.get("conclusion"),
            body.get("details_url"),
            body.get("external_id"),
            body.get("started_at", now_iso()),
            body.get("completed_at", now_iso()) if completed else None,
            body.get("output", {}),
            None if app is None else app.id,
        )
        self.world.check_runs[check.id] = check
        return Reply(201, self.payloads.check_run(check))

    @handles("checks/update")
    def update_check_run(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        self.authorize_write(call, repo)
        check = self.world.check_runs.get(call.params["check_run_id"])
        if check is None or check.repo != repo.full_name:
            raise ApiError(404, "Not Found")
        updates = {
            key: call.body[key]
            for key in (
                "name",
                "status",
                "conclusion",
                "details_url",
                "external_id",
                "started_at",
                "completed_at",
                "output",
            )
            if key in call.body
        }
        if "conclusion" in updates:
            updates["status"] = "completed"
            updates.setdefault("completed_at", now_iso())
        self.world.check_runs[check.id] = replace(check, **updates)
        return Reply(200, self.payloads.check_run(self.world.check_runs[check.id]))

    # -- dispatches and workflow runs ------------------------------------------------------------

    @handles("repos/create-dispatch-event")
    def repository_dispatch(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        self.authorize_write(call, repo)
        self.world.dispatches.append(
            Dispatch(
                repo.full_name,
                call.body["event_type"],
                call.body.get("client_payload", {}),
                call.caller.login,
                time.time(),
            )
        )
        return Reply(204)

    @handles("actions/create-workflow-dispatch")
    def workflow_dispatch(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        self.authorize_write(call, repo)
        workflow = self.workflow(call, repo)
        ref = call.body["ref"].removeprefix("refs/heads/")
        run = self.world.add_run(workflow, "workflow_dispatch", ref, None, call.caller.login)
        self.world.workflow_dispatches.append(
            WorkflowDispatch(
                repo.full_name,
                workflow.id,
                call.body["ref"],
                call.body.get("inputs", {}),
                run.id,
                call.caller.login,
                time.time(),
            )
        )
        if not call.body.get("return_run_details"):
            return Reply(204)
        details = self.payloads.workflow_run(run)
        return Reply(200, {"workflow_run_id": run.id, "run_url": details["url"], "html_url": details["html_url"]})

    @handles("actions/get-workflow")
    def get_workflow(self, call: Call) -> Reply:
        return Reply(200, self.payloads.workflow(self.workflow(call, self.visible_repo(call))))

    @handles("actions/get-workflow-run")
    def get_workflow_run(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        run = self.world.runs.get(call.params["run_id"])
        if run is None or run.repo != repo.full_name:
            raise ApiError(404, "Not Found")
        return Reply(200, self.payloads.workflow_run(run))

    @handles("actions/list-workflow-runs-for-repo")
    def list_runs(self, call: Call) -> Reply:
        return self.runs(call, self.visible_repo(call), workflow_id=None)

    @handles("actions/list-workflow-runs")
    def list_workflow_runs(self, call: Call) -> Reply:
        repo = self.visible_repo(call)
        return self.runs(call, repo, workflow_id=self.workflow(call, repo).id)

    def runs(self, call: Call, repo: Repo, workflow_id: int | None) -> Reply:
        query = call.query
        runs = [
            r
            for r in self.world.runs.values()
            if r.repo == repo.full_name
            and workflow_id in (None, r.workflow_id)
            and query.get("branch", r.head_branch) == r.head_branch
            and query.get("event", r.event) == r.event
            and query.get("head_sha", r.head_sha) == r.head_sha
            and query.get("actor", r.actor) == r.actor
            and query.get("status") in (None, r.status, r.conclusion)
        ]
        runs.sort(key=lambda r: r.id, reverse=True)
        page = self.paginate(call, repo, [self.payloads.workflow_run(r) for r in runs])
        return Reply(200, {"total_count": len(runs), "workflow_runs": page.body}, page.headers)

    # -- shared rules ----------------------------------------------------------------------------

    def visible_repo(self, call: Call) -> Repo:
        repo = self.world.repos.get(f"{call.params['owner']}/{call.params['repo']}".lower())
        if repo is None or (repo.private and not self.can_see_private(call.caller, repo)):
            raise ApiError(404, "Not Found")
        return repo

    def can_see_private(self, caller: Caller, repo: Repo) -> bool:
        if caller.token is None or caller.user is None or not caller.token.sees(repo.full_name):
            return False
        return caller.user.type == "Bot" or self.world.level(repo, caller.user.login) != "none"

    def authorize_write(self, call: Call, repo: Repo) -> None:
        caller = call.caller
        if caller.token is None or caller.user is None:
            raise ApiError(401, "Requires authentication")
        scopes = WRITE_SCOPES[call.operation_id]
        if not caller.token.sees(repo.full_name) or not any(caller.token.allows(s, "write") for s in scopes):
            kind = "integration" if caller.user.type == "Bot" else "personal access token"
            raise ApiError(403, f"Resource not accessible by {kind}")
        pushes = LEVELS.index(self.world.level(repo, caller.user.login)) >= LEVELS.index("write")
        if caller.user.type != "Bot" and call.operation_id in PUSH_ONLY and not pushes:
            raise ApiError(404, "Not Found")  # GitHub hides what the caller may not change

    def pull(self, call: Call, number: int) -> Pull:
        repo = self.visible_repo(call)
        pull = self.world.pulls.get((repo.full_name.lower(), number))
        if pull is None:
            raise ApiError(404, "Not Found")
        return pull

    def pulls_of(self, repo: Repo) -> list[Pull]:
        return [p for p in self.world.pulls.values() if p.repo == repo.full_name]

    def writable_comment(self, call: Call) -> Comment:
        repo = self.visible_repo(call)
        comment = self.world.comments.get(call.params["comment_id"])
        if comment is None or comment.repo != repo.full_name:
            raise ApiError(404, "Not Found")
        self.authorize_write(call, repo)
        return comment

    def comment_body(self, call: Call) -> str:
        body: str = call.body["body"]
        if len(body) > COMMENT_BODY_LIMIT:
            raise _too_long("IssueComment", "body", COMMENT_BODY_LIMIT)
        return body

    def workflow(self, call: Call, repo: Repo) -> Workflow:
        wanted = str(call.params["workflow_id"])
        for workflow in self.world.workflows.values():
            if workflow.repo == repo.full_name and wanted in (str(workflow.id), workflow.path.rsplit("/", 1)[-1]):
                return workflow
        raise ApiError(404, "Not Found")

    def paginate(self, call: Call, repo: Repo, items: list[Any]) -> Reply:
        """One page of ``items`` and GitHub's Link header, whose URLs name the repository by id."""
        requested = call.query.get("per_page", 30)
        per_page = min(requested if requested >= 1 else 30, 100)
        page = max(call.query.get("page", 1), 1)
        last = max(math.ceil(len(items) / per_page), 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        rest = call.path.split("/", 4)[4] if call.path.startswith("/repos/") else ""
        base = f"{self.payloads.api}/repositories/{repo.id}/{rest}"

        def url(number: int) -> str:
            pairs = [(k, v) for k, v in call.raw_query if k != "page"]
            return f"{base}?{urlencode([*pairs, ('page', number)])}"

        links = []
        if page > 1:
            links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links.append(f'<{url(1)}>; rel="first"')
        return Reply(200, chunk, {"Link": ", ".join(links)} if links else {})


def _too_long(resource: str, name: str, limit: int) -> ApiError:
    return ApiError(
        422,
        "Validation Failed",
        [
            {
                "resource": resource,
                "code": "custom",
                "field": name,
                "message": f"{name} is too long (maximum is {limit} characters)",
            }
        ],
    )
