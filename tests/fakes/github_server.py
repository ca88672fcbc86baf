"""A fake GitHub REST API: a real HTTP server on a loopback port that PyGithub (or ``requests``) talks to.

Every request is routed through the path templates of GitHub's own REST description
(tests/fixtures/github/rest-openapi-subset.json). Query parameters and JSON bodies that break the
spec get GitHub's 422 and are recorded in :attr:`FakeGitHub.spec_violations`; every answer the fake
gives is checked against the documented response schema too, and one that does not fit is a bug in
the fake: it answers 500 and :meth:`FakeGitHub.stop` (the end of the ``with`` block) raises.

Operations (by the spec's operationId):

- ``repos/get``, ``rate-limit/get``, ``users/get-authenticated`` (``GET /user``: outside the
  subset, checked against its "Simple User"; an installation or Actions token gets GitHub's 403);
- ``pulls/get``, ``pulls/list`` (``state``, ``head=owner:ref``, ``base``, ``direction``),
  ``repos/list-pull-requests-associated-with-commit``;
- ``issues/list-comments`` (``since``; pages), ``issues/create-comment``, ``issues/update-comment``,
  ``issues/delete-comment``, ``reactions/create-for-issue-comment``;
- ``repos/create-commit-status``, ``checks/create``, ``checks/update``;
- ``repos/create-dispatch-event``, ``actions/create-workflow-dispatch`` (204, or 200 with
  ``workflow_run_id``/``run_url``/``html_url`` when ``return_run_details`` is true; either way a
  queued ``workflow_dispatch`` run appears), ``actions/get-workflow``, ``actions/get-workflow-run``,
  ``actions/list-workflow-runs``, ``actions/list-workflow-runs-for-repo`` (``branch``, ``event``,
  ``status``, ``head_sha``, ``actor``; pages);
- ``repos/get-collaborator-permission-level``;
- ``apps/create-installation-access-token`` and ``apps/get-repo-installation``, for a GitHub App's
  RS256 JWT (``Authorization: Bearer <jwt>``).

Lists take ``per_page`` (default 30, at most 100) and ``page`` and answer with GitHub's ``Link``
header (prev, next, last, first), whose URLs name the repository by id (``/repositories/{id}/...``)
exactly as GitHub's do; those routes work too. Other routes get GitHub's 404 body.

Auth: ``Authorization: token X`` or ``Bearer X``. :data:`ACTIONS_TOKEN` is the Actions bot's
``GITHUB_TOKEN`` with write permissions, :data:`READ_ONLY_TOKEN` the one a fork's pull request gets.
Unknown tokens get 401 ``Bad credentials``; writes without the token permission get 403
``Resource not accessible by integration``; private repositories are 404 to outsiders; anonymous
reads of public repositories work. Every answer carries ``x-ratelimit-*`` headers; past the limit
(``FakeGitHub(rate_limit=...)``) GitHub's 403 ``API rate limit exceeded`` follows.

Tests script trouble with :meth:`FakeGitHub.fail_next` and read what happened from
:attr:`FakeGitHub.requests` and helpers such as :meth:`FakeGitHub.comments`. With PyGithub: pass
``seconds_between_requests=0, seconds_between_writes=0`` (it sleeps between requests by default),
and ``lazy=True`` before ``repo.get_commit(sha).create_status(...)``: otherwise ``get_commit`` first
fetches ``GET /repos/{owner}/{repo}/commits/{sha}``, which is outside the subset (404 here).
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.fakes.github_auth import RateLimits, authenticate, credential_of
from tests.fakes.github_model import (
    ALL_WRITE,
    LEVELS,
    READ_ONLY,
    CheckRun,
    Comment,
    Dispatch,
    Reaction,
    Status,
    WorkflowDispatch,
    WorkflowRun,
    World,
)
from tests.fakes.github_operations import ApiError, Call, Operations, Reply
from tests.fakes.github_payloads import Payloads
from tests.fakes.github_spec import Operation, load_spec
from tests.fakes.loopback import KeepAliveHandler, LoopbackService

ACTIONS_BOT = "github-actions[bot]"
ACTIONS_TOKEN = "ghs_fakeActionsTokenWithWriteAccess000001"
READ_ONLY_TOKEN = "ghs_fakeForkPullRequestReadOnlyToken0001"
DOCS = "https://docs.github.com/rest"
SECONDARY_LIMIT = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
DEFAULT_MESSAGES = {
    401: "Bad credentials",
    403: "Resource not accessible by integration",
    404: "Not Found",
    409: "Conflict",
    422: "Validation Failed",
    429: SECONDARY_LIMIT,
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
}
REPOSITORY_BY_ID = re.compile(r"/repositories/(\d+)(/.*)?")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # as requested: pages reached through a Link header read /repositories/{id}/...
    query: dict[str, str]
    body: Any
    token: str | None
    timestamp: float
    status: int
    operation_id: str | None


@dataclass(frozen=True)
class SpecViolation:
    method: str
    path: str
    operation_id: str
    problems: tuple[str, ...]
    body: Any


@dataclass
class _ScriptedFailure:
    method: str
    path_pattern: str
    status: int
    times: int
    headers: dict[str, str]
    message: str | None

    def matches(self, method: str, path: str, operation: Operation) -> bool:
        return self.method in ("*", method) and (
            fnmatch.fnmatchcase(path, self.path_pattern) or self.path_pattern == operation.template
        )


class _Handler(KeepAliveHandler):
    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, headers, data = self.server.fake.handle(self.command, self.path, self.headers.get("Authorization"), raw)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815  (http.server's naming)


class FakeGitHub(LoopbackService):
    """Start with ``with FakeGitHub() as github_api:``; ``github_api.url`` is PyGithub's ``base_url``."""

    handler = _Handler
    name = "fake-github"

    def __init__(self, rate_limit: int = 5000) -> None:
        self._lock = threading.Lock()
        self._spec = load_spec()
        self._world = World()
        self._world.add_user(ACTIONS_BOT, "Bot")
        self._world.add_token(ACTIONS_TOKEN, ACTIONS_BOT, dict(ALL_WRITE))
        self._world.add_token(READ_ONLY_TOKEN, ACTIONS_BOT, dict(READ_ONLY))
        self._rate_limits = RateLimits(rate_limit)
        self._failures: list[_ScriptedFailure] = []
        self._requests: list[RecordedRequest] = []
        self._violations: list[SpecViolation] = []
        self._bugs: list[str] = []
        self._operations: Operations | None = None

    def started(self) -> None:
        self._operations = Operations(self._world, Payloads(self._world, self.url))

    def stop(self) -> None:
        """Stop serving; raises AssertionError if the fake answered anything against the spec."""
        super().stop()
        with self._lock:
            bugs, self._bugs = self._bugs, []
        if bugs:
            raise AssertionError("the fake GitHub answered against GitHub's spec:\n" + "\n".join(bugs))

    @property
    def url(self) -> str:
        return self.origin

    # -- seeding -----------------------------------------------------------------------------

    def add_user(
        self,
        login: str,
        token: str | None = None,
        type: str = "User",  # noqa: A002
        permissions: dict[str, str] | None = None,
    ) -> None:
        """A user (or Bot); with ``token``, a token for it: a classic PAT unless ``permissions`` are given."""
        with self._lock:
            self._world.add_user(login, type)
            if token is not None:
                self._world.add_token(token, login, permissions)

    def add_repo(self, full_name: str, default_branch: str = "main", private: bool = False) -> int:
        with self._lock:
            return self._world.add_repo(full_name, default_branch, private).id

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
        state: str = "open",
        merged: bool = False,
    ) -> None:
        """A pull request; ``head_repo`` ("someone/fork") makes it a fork's, creating that fork."""
        with self._lock:
            pull = self._world.add_pull(repo, number, head_sha, head_ref, base_ref, head_repo, user, title)
            pull.state, pull.merged = state, merged

    def set_permission(self, repo: str, login: str, level: str) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
        with self._lock:
            self._world.add_user(login)
            self._world.repo(repo).permissions[login.lower()] = level

    def add_comment(self, repo: str, number: int, body: str, user: str = ACTIONS_BOT) -> int:
        with self._lock:
            return self._world.add_comment(repo, number, body, user).id

    def add_workflow(self, repo: str, file_name: str, name: str | None = None) -> int:
        with self._lock:
            return self._world.add_workflow(repo, file_name, name).id

    def add_workflow_run(
        self,
        repo: str,
        file_name: str,
        event: str = "push",
        head_branch: str | None = None,
        head_sha: str | None = None,
        status: str = "completed",
        conclusion: str | None = "success",
        actor: str = ACTIONS_BOT,
    ) -> int:
        with self._lock:
            workflow = self._world.workflow_named(repo, file_name)
            branch = head_branch or self._world.repo(repo).default_branch
            return self._world.add_run(workflow, event, branch, head_sha, actor, status, conclusion).id

    def update_workflow_run(self, run_id: int, status: str, conclusion: str | None = None) -> None:
        with self._lock:
            run = self._world.runs[run_id]
            run.status, run.conclusion = status, conclusion

    def add_installation(
        self,
        account: str,
        repositories: list[str] | None = None,
        app_id: int = 1,
        app_slug: str = "scorecard-app",
        public_key: str | None = None,
        permissions: dict[str, str] | None = None,
    ) -> int:
        """A GitHub App (created on first use) installed on ``account``: all its repositories, or
        ``repositories`` ("owner/name"). With ``public_key`` (PEM) the app's JWTs must be signed."""
        with self._lock:
            app = self._world.apps.get(app_id) or self._world.add_app(app_id, app_slug, public_key)
            return self._world.add_installation(app, account, repositories, permissions or dict(ALL_WRITE)).id

    # -- scripted trouble --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_pattern: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` in GitHub's error shape.

        ``method`` may be ``"*"``; ``path_pattern`` is a glob over the path ("/repos/*/dispatches")
        or a spec template ("/repos/{owner}/{repo}/dispatches"). Given ``headers`` replace the
        defaults (``x-ratelimit-remaining: "0"`` makes a 403 GitHub's primary rate-limit error,
        ``Retry-After`` a 403 its secondary one)."""
        with self._lock:
            self._failures.append(
                _ScriptedFailure(method.upper(), path_pattern, status, times, dict(headers or {}), message)
            )

    # -- what happened -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def spec_violations(self) -> list[SpecViolation]:
        with self._lock:
            return list(self._violations)

    def comments(self, repo: str, number: int) -> list[Comment]:
        with self._lock:
            return sorted(
                (
                    c
                    for c in self._world.comments.values()
                    if c.repo.lower() == repo.lower() and c.issue_number == number
                ),
                key=lambda c: c.id,
            )

    def statuses(self, repo: str, sha: str | None = None) -> list[Status]:
        with self._lock:
            return [s for s in self._world.statuses if s.repo.lower() == repo.lower() and sha in (None, s.sha)]

    def check_runs(self, repo: str) -> list[CheckRun]:
        with self._lock:
            return [c for c in self._world.check_runs.values() if c.repo.lower() == repo.lower()]

    def reactions(self, comment_id: int) -> list[Reaction]:
        with self._lock:
            return [r for r in self._world.reactions if r.comment_id == comment_id]

    def dispatches(self, repo: str) -> list[Dispatch]:
        with self._lock:
            return [d for d in self._world.dispatches if d.repo.lower() == repo.lower()]

    def workflow_dispatches(self, repo: str) -> list[WorkflowDispatch]:
        with self._lock:
            return [d for d in self._world.workflow_dispatches if d.repo.lower() == repo.lower()]

    def workflow_runs(self, repo: str) -> list[WorkflowRun]:
        with self._lock:
            return [r for r in self._world.runs.values() if r.repo.lower() == repo.lower()]

    # -- answering (called from handler threads) ---------------------------------------------

    def handle(
        self, method: str, target: str, authorization: str | None, raw_body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        requested_path, _, query_string = target.partition("?")
        requested_path = unquote(requested_path)
        raw_query = parse_qsl(query_string, keep_blank_values=True)
        credential = credential_of(authorization)
        body, body_is_json = _decode(raw_body)
        with self._lock:
            path = self._canonical(requested_path)
            try:
                operation, reply = self._answer(
                    method, path, raw_query, body if body_is_json else raw_body, authorization
                )
            except Exception:  # noqa: BLE001  (a bug in the fake: fail the test, not just this request)
                self._bugs.append(f"{method} {target} crashed the fake:\n{traceback.format_exc()}")
                operation, reply = None, _error_reply(500, "fake GitHub crashed (see the test's teardown)")
            problems = self._spec.response_problems(operation, reply.status, reply.body)
            if problems:
                self._bugs.append(f"{method} {target} -> {reply.status}: " + "; ".join(problems))
                reply = _error_reply(500, "fake GitHub answered against the spec: " + "; ".join(problems))
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "X-GitHub-Api-Version-Selected": "2022-11-28",
                **self._rate_limits.headers(credential),
            }
            headers = _merge_headers(headers, reply.headers)
            self._requests.append(
                RecordedRequest(
                    method,
                    requested_path,
                    dict(raw_query),
                    body,
                    credential,
                    time.time(),
                    reply.status,
                    operation.operation_id if operation else None,
                )
            )
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        return reply.status, headers, data

    def _answer(
        self, method: str, path: str, raw_query: list[tuple[str, str]], body: Any, authorization: str | None
    ) -> tuple[Operation | None, Reply]:
        """The reply to a request whose ``body`` is parsed JSON, or the bytes that would not parse."""
        matched = self._spec.match(method, path)
        if matched is None:
            return None, _error_reply(404, "Not Found")
        operation, params = matched
        try:
            failure = next((f for f in self._failures if f.matches(method, path, operation)), None)
            if failure is not None:
                return operation, self._scripted_reply(failure, credential_of(authorization), operation)
            caller = authenticate(self._world, operation.operation_id, authorization)
            if operation.operation_id != "rate-limit/get":  # GitHub does not count it
                self._rate_limits.count(credential_of(authorization), caller)
            if isinstance(body, bytes):
                raise ApiError(400, "Problems parsing JSON")
            query, problems = self._spec.query_problems(operation, dict(raw_query))
            problems += self._spec.request_problems(operation, body)
            if problems:
                self._violations.append(SpecViolation(method, path, operation.operation_id, tuple(problems), body))
                raise ApiError(422, "Invalid request.\n\n" + "\n".join(problems))
            credential = credential_of(authorization)
            rate = (self._rate_limits.limit(credential), *self._rate_limits.window(credential))
            call = Call(operation.operation_id, path, params, query, raw_query, body, caller, rate)
            assert self._operations is not None
            return operation, self._operations.answer(call)
        except ApiError as error:
            return operation, _error_reply(error.status, error.message, operation.documentation_url, error.errors)

    def _scripted_reply(self, failure: _ScriptedFailure, credential: str | None, operation: Operation) -> Reply:
        failure.times -= 1
        if failure.times <= 0:
            self._failures.remove(failure)
        headers = {name.lower(): value for name, value in failure.headers.items()}
        message = failure.message or DEFAULT_MESSAGES.get(failure.status, "Error")
        if failure.message is None and failure.status == 403 and headers.get("x-ratelimit-remaining") == "0":
            message = "API rate limit exceeded for user ID 1."
            headers.setdefault("x-ratelimit-reset", str(self._rate_limits.window(credential)[1]))
        elif failure.message is None and failure.status == 403 and "retry-after" in headers:
            message = SECONDARY_LIMIT
        reply = _error_reply(failure.status, message, operation.documentation_url)
        reply.headers.update(headers)
        return reply

    def _canonical(self, path: str) -> str:
        """``/repositories/{id}/...`` (GitHub's Link URLs) as ``/repos/{owner}/{repo}/...``."""
        found = REPOSITORY_BY_ID.fullmatch(path)
        repo = next((r for r in self._world.repos.values() if found and r.id == int(found.group(1))), None)
        return path if repo is None or found is None else f"/repos/{repo.full_name}{found.group(2) or ''}"


def _decode(raw: bytes) -> tuple[Any, bool]:
    """The JSON body (None when empty) and True, or its text and False when it does not parse."""
    try:
        return (json.loads(raw) if raw.strip() else None), True
    except ValueError:
        return raw.decode(errors="replace"), False


def _error_reply(
    status: int, message: str, documentation_url: str = DOCS, errors: list[dict[str, Any]] | None = None
) -> Reply:
    body: dict[str, Any] = {"message": message, "documentation_url": documentation_url, "status": str(status)}
    if errors:
        body["errors"] = errors
    return Reply(status, body)


def _merge_headers(defaults: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    lowered = {name.lower() for name in overrides}
    return {**{k: v for k, v in defaults.items() if k.lower() not in lowered}, **overrides}
