"""What the fake GitHub knows: users, tokens, repositories, pull requests and what was done to them.

Plain dataclasses in one :class:`World`; the HTTP layer holds a lock around every use, so nothing
here is thread-safe by itself. Repository and login lookups ignore case, as GitHub's do.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("none", "read", "triage", "write", "maintain", "admin")  # weakest first
ALL_WRITE = {
    scope: "write" for scope in ("actions", "checks", "contents", "issues", "metadata", "pull_requests", "statuses")
}
READ_ONLY = {scope: "read" for scope in ALL_WRITE}


def now_iso(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if at is None else at))


def sha_of(text: str) -> str:
    """A stable 40-hex commit sha standing for a ref nobody gave a sha for."""
    return hashlib.sha1(text.encode()).hexdigest()


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # User | Bot | Organization


@dataclass
class Token:
    value: str
    login: str
    permissions: dict[str, str] | None  # None: a classic PAT with the repo scope (everything)
    repositories: frozenset[str] | None = None  # installation tokens see only their repositories
    expires_at: str | None = None

    def allows(self, scope: str, level: str) -> bool:
        if self.permissions is None:
            return True
        granted = self.permissions.get(scope, "none")
        return granted == "write" or granted == level

    def sees(self, full_name: str) -> bool:
        return self.repositories is None or full_name.lower() in self.repositories


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    private: bool
    fork: bool
    created_at: str
    permissions: dict[str, str] = field(default_factory=dict)  # login (lower case) -> level

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Pull:
    id: int
    repo: str
    number: int
    title: str
    user: str
    head_sha: str
    head_ref: str
    head_repo: str
    base_ref: str
    state: str = "open"
    merged: bool = False
    created_at: str = field(default_factory=now_iso)


@dataclass
class Comment:
    id: int
    repo: str
    issue_number: int
    body: str
    user: str
    created_at: str
    updated_at: str


@dataclass
class Status:
    id: int
    repo: str
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: str


@dataclass
class CheckRun:
    id: int
    repo: str
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    details_url: str | None
    external_id: str | None
    started_at: str | None
    completed_at: str | None
    output: dict[str, Any]
    app_id: int | None


@dataclass
class Workflow:
    id: int
    repo: str
    path: str
    name: str
    created_at: str


@dataclass
class WorkflowRun:
    id: int
    repo: str
    workflow_id: int
    run_number: int
    event: str
    head_branch: str
    head_sha: str
    actor: str
    status: str = "queued"
    conclusion: str | None = None
    created_at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class Dispatch:
    repo: str
    event_type: str
    client_payload: dict[str, Any]
    sender: str
    received_at: float


@dataclass(frozen=True)
class WorkflowDispatch:
    repo: str
    workflow_id: int
    ref: str
    inputs: dict[str, Any]
    run_id: int
    sender: str
    received_at: float


@dataclass(frozen=True)
class Reaction:
    id: int
    comment_id: int
    content: str
    user: str
    created_at: str


@dataclass(frozen=True)
class App:
    id: int
    slug: str
    public_key: str | None  # PEM; when given, app JWTs must be signed by its private key


@dataclass
class Installation:
    id: int
    app_id: int
    account: str
    repositories: frozenset[str] | None  # lower-case full names; None: all of the account's
    permissions: dict[str, str]
    created_at: str = field(default_factory=now_iso)

    def covers(self, full_name: str) -> bool:
        owner = full_name.split("/")[0].lower()
        return owner == self.account.lower() and (self.repositories is None or full_name.lower() in self.repositories)


class World:
    def __init__(self) -> None:
        self._ids = itertools.count(1001)
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}
        self.pulls: dict[tuple[str, int], Pull] = {}
        self.comments: dict[int, Comment] = {}
        self.statuses: list[Status] = []
        self.check_runs: dict[int, CheckRun] = {}
        self.workflows: dict[int, Workflow] = {}
        self.runs: dict[int, WorkflowRun] = {}
        self.dispatches: list[Dispatch] = []
        self.workflow_dispatches: list[WorkflowDispatch] = []
        self.reactions: list[Reaction] = []
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}

    def next_id(self) -> int:
        return next(self._ids)

    # -- seeding -----------------------------------------------------------------------------

    def add_user(self, login: str, type: str = "User") -> User:  # noqa: A002  (GitHub's field name)
        user = self.users.get(login.lower())
        if user is None:
            user = self.users[login.lower()] = User(login, self.next_id(), type)
        return user

    def add_token(
        self,
        value: str,
        login: str,
        permissions: dict[str, str] | None,
        repositories: frozenset[str] | None = None,
        expires_at: str | None = None,
    ) -> Token:
        if login.lower() not in self.users:
            raise KeyError(f"add the user {login!r} before giving it a token")
        token = self.tokens[value] = Token(value, login, permissions, repositories, expires_at)
        return token

    def add_repo(self, full_name: str, default_branch: str = "main", private: bool = False, fork: bool = False) -> Repo:
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"a repository is named 'owner/name', not {full_name!r}")
        self.add_user(owner)
        repo = Repo(self.next_id(), owner, name, default_branch, private, fork, now_iso())
        repo.permissions[owner.lower()] = "admin"
        self.repos[full_name.lower()] = repo
        return repo

    def add_pull(
        self,
        repo: str,
        number: int,
        head_sha: str,
        head_ref: str,
        base_ref: str,
        head_repo: str | None = None,
        user: str | None = None,
        title: str | None = None,
    ) -> Pull:
        base = self.repo(repo)
        head = self.repos.get((head_repo or repo).lower()) or self.add_repo(head_repo or repo, fork=True)
        author = user or head.owner
        self.add_user(author)
        pull = Pull(
            self.next_id(),
            base.full_name,
            number,
            title or f"Change {head_ref}",
            author,
            head_sha,
            head_ref,
            head.full_name,
            base_ref,
        )
        self.pulls[(base.full_name.lower(), number)] = pull
        return pull

    def add_comment(self, repo: str, number: int, body: str, user: str) -> Comment:
        pull = self.pull(repo, number)
        self.add_user(user)
        created = now_iso()
        comment = Comment(self.next_id(), pull.repo, number, body, user, created, created)
        self.comments[comment.id] = comment
        return comment

    def add_workflow(self, repo: str, file_name: str, name: str | None = None) -> Workflow:
        base = self.repo(repo)
        workflow = Workflow(
            self.next_id(),
            base.full_name,
            f".github/workflows/{file_name}",
            name or file_name.rsplit(".", 1)[0],
            now_iso(),
        )
        self.workflows[workflow.id] = workflow
        return workflow

    def add_run(
        self,
        workflow: Workflow,
        event: str,
        head_branch: str,
        head_sha: str | None,
        actor: str,
        status: str = "queued",
        conclusion: str | None = None,
    ) -> WorkflowRun:
        number = 1 + sum(run.workflow_id == workflow.id for run in self.runs.values())
        run = WorkflowRun(
            self.next_id(),
            workflow.repo,
            workflow.id,
            number,
            event,
            head_branch,
            head_sha or sha_of(f"{workflow.repo}@{head_branch}"),
            actor,
            status,
            conclusion,
        )
        self.runs[run.id] = run
        return run

    def add_app(self, app_id: int, slug: str, public_key: str | None) -> App:
        app = self.apps[app_id] = App(app_id, slug, public_key)
        self.add_user(f"{slug}[bot]", "Bot")
        return app

    def add_installation(
        self, app: App, account: str, repositories: list[str] | None, permissions: dict[str, str]
    ) -> Installation:
        if account.lower() not in self.users:
            self.add_user(account, "Organization")
        chosen = None if repositories is None else frozenset(name.lower() for name in repositories)
        installation = Installation(self.next_id(), app.id, account, chosen, dict(permissions))
        self.installations[installation.id] = installation
        return installation

    def issue_installation_token(
        self, installation: Installation, permissions: dict[str, str], repositories: frozenset[str] | None
    ) -> Token:
        app = self.apps[installation.app_id]
        expires_at = now_iso(time.time() + 3600)
        return self.add_token(
            f"ghs_{secrets.token_urlsafe(27)[:36]}", f"{app.slug}[bot]", permissions, repositories, expires_at
        )

    # -- lookups -----------------------------------------------------------------------------

    def repo(self, full_name: str) -> Repo:
        try:
            return self.repos[full_name.lower()]
        except KeyError:
            raise KeyError(f"unknown repository {full_name!r}: add it with add_repo first") from None

    def pull(self, repo: str, number: int) -> Pull:
        try:
            return self.pulls[(self.repo(repo).full_name.lower(), number)]
        except KeyError:
            raise KeyError(f"unknown pull request {repo}#{number}: add it with add_pull first") from None

    def workflow_named(self, repo: str, file_name: str) -> Workflow:
        for workflow in self.workflows.values():
            if workflow.repo.lower() == repo.lower() and workflow.path.rsplit("/", 1)[-1] == file_name:
                return workflow
        raise KeyError(f"unknown workflow {file_name!r} in {repo}: add it with add_workflow first")

    def user(self, login: str) -> User:
        return self.users[login.lower()]

    def level(self, repo: Repo, login: str) -> str:
        explicit = repo.permissions.get(login.lower())
        if explicit is not None:
            return explicit
        return "none" if repo.private else "read"
