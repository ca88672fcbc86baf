"""The fake GitHub's contract, through the real PyGithub client (and plain HTTP where PyGithub hides it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import github
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.github_server import (
    ACTIONS_BOT,
    ACTIONS_TOKEN,
    READ_ONLY_TOKEN,
    FakeGitHub,
)

REPO = "acme/evals"
HEAD_SHA = "a" * 40
FORK_SHA = "b" * 40
ALICE_TOKEN = "ghp_aliceClassicPersonalAccessToken00001"


@pytest.fixture
def github_api() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.add_pull(REPO, 7, head_sha=HEAD_SHA, head_ref="feature", base_ref="main")
        fake.add_pull(REPO, 8, head_sha=FORK_SHA, head_ref="fix", base_ref="main", head_repo="stranger/evals")
        fake.add_user("alice", token=ALICE_TOKEN)
        fake.add_workflow(REPO, "scorecard.yml", name="Scorecard")
        yield fake


def connect(fake: FakeGitHub, token: str = ACTIONS_TOKEN, **options: Any) -> github.Github:
    """PyGithub as our code configures it, minus its politeness pauses and (unless asked) retries."""
    settings: dict[str, Any] = {"seconds_between_requests": 0, "seconds_between_writes": 0, "retry": None}
    settings.update(options)
    return github.Github(base_url=fake.url, auth=github.Auth.Token(token), **settings)


def raw(
    fake: FakeGitHub, method: str, path: str, body: Any = None, token: str | None = ACTIONS_TOKEN
) -> requests.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.request(method, fake.url + path, json=body, headers=headers, timeout=5)


def test_comments_are_created_edited_and_listed_over_pages(github_api):
    for n in range(73):
        github_api.add_comment(REPO, 7, f"seeded {n}")
    pull = connect(github_api, per_page=30).get_repo(REPO).get_pull(7)
    created = pull.create_issue_comment("first from PyGithub")
    pull.create_issue_comment("second from PyGithub")
    created.edit("edited")
    created.create_reaction("rocket")
    pull.create_issue_comment("short-lived").delete()

    comments = pull.get_issue_comments()
    bodies = [c.body for c in comments]
    assert len(bodies) == 75 and comments.totalCount == 75
    assert bodies[:2] == ["seeded 0", "seeded 1"] and bodies[-2:] == ["edited", "second from PyGithub"]
    assert comments[-2].user.login == ACTIONS_BOT and comments[-2].user.type == "Bot"
    assert [c.body for c in github_api.comments(REPO, 7)] == bodies
    assert [r.content for r in github_api.reactions(created.id)] == ["rocket"]
    pages = [r for r in github_api.requests if r.operation_id == "issues/list-comments"]
    # three pages (PyGithub leaves out the default per_page=30), then totalCount's per_page=1
    # request, whose Link names the last page: 75
    assert [(r.query.get("per_page"), r.query.get("page")) for r in pages] == [
        (None, None),
        (None, "2"),
        (None, "3"),
        ("1", None),
    ]
    repo_id = pull.base.repo.id
    assert [r.path for r in pages[1:3]] == [f"/repositories/{repo_id}/issues/7/comments"] * 2  # followed Links
    assert github_api.spec_violations == []


def test_link_header_is_githubs(github_api):
    for n in range(75):
        github_api.add_comment(REPO, 7, f"c{n}")
    repo_id = raw(github_api, "GET", f"/repos/{REPO}").json()["id"]
    middle = raw(github_api, "GET", f"/repos/{REPO}/issues/7/comments?per_page=30&page=2")
    base = f"{github_api.url}/repositories/{repo_id}/issues/7/comments?per_page=30"
    assert middle.headers["Link"] == (
        f'<{base}&page=1>; rel="prev", <{base}&page=3>; rel="next", '
        f'<{base}&page=3>; rel="last", <{base}&page=1>; rel="first"'
    )
    assert [c["body"] for c in middle.json()] == [f"c{n}" for n in range(30, 60)]
    followed = requests.get(f"{base}&page=3", headers={"Authorization": f"token {ACTIONS_TOKEN}"}, timeout=5)
    assert len(followed.json()) == 15 and "next" not in followed.headers["Link"]
    assert "Link" not in raw(github_api, "GET", f"/repos/{REPO}/issues/8/comments").headers


def test_statuses_and_check_runs(github_api):
    repo = connect(github_api, lazy=True).get_repo(REPO)
    repo.get_commit(HEAD_SHA).create_status(
        "pending", target_url="https://scorecard.example/runs/1", description="Scoring", context="scorecard"
    )
    check = repo.create_check_run("scorecard", HEAD_SHA, status="in_progress")
    check.edit(conclusion="success", output={"title": "All metrics pass", "summary": "3/3"})

    [status] = github_api.statuses(REPO, HEAD_SHA)
    assert (status.state, status.context, status.creator) == ("pending", "scorecard", ACTIONS_BOT)
    [stored] = github_api.check_runs(REPO)
    assert (stored.status, stored.conclusion, stored.output["title"]) == ("completed", "success", "All metrics pass")
    too_long = raw(
        github_api, "POST", f"/repos/{REPO}/statuses/{HEAD_SHA}", {"state": "success", "description": "x" * 141}
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["message"] == "description is too long (maximum is 140 characters)"


def test_repository_and_workflow_dispatch(github_api):
    repo = connect(github_api).get_repo(REPO)
    payload = {"project_id": "p1", "testset_id": "t1", "run_id": "r1"}
    assert repo.create_repository_dispatch("start-evaluation", payload) is True
    workflow = repo.get_workflow("scorecard.yml")
    assert workflow.create_dispatch("main", {"run_id": "r2"}, throw=True) is True
    run = workflow.create_dispatch("main", {"run_id": "r3"}, throw=True, return_run_details=True)

    [dispatch] = github_api.dispatches(REPO)
    assert (dispatch.event_type, dispatch.client_payload, dispatch.sender) == ("start-evaluation", payload, ACTIONS_BOT)
    assert [d.inputs for d in github_api.workflow_dispatches(REPO)] == [{"run_id": "r2"}, {"run_id": "r3"}]
    assert run.id == github_api.workflow_dispatches(REPO)[1].run_id
    assert run.html_url == f"https://github.com/{REPO}/actions/runs/{run.id}"
    fetched = repo.get_workflow_run(run.id)
    assert (fetched.status, fetched.event, fetched.head_branch) == ("queued", "workflow_dispatch", "main")
    assert [r.id for r in workflow.get_runs(event="workflow_dispatch")] == [run.id, run.id - 1]
    too_many = raw(
        github_api,
        "POST",
        f"/repos/{REPO}/dispatches",
        {"event_type": "start-evaluation", "client_payload": {f"k{n}": n for n in range(11)}},
    )
    assert too_many.status_code == 422 and len(github_api.dispatches(REPO)) == 1


def test_collaborator_permission(github_api):
    github_api.set_permission(REPO, "alice", "maintain")
    github_api.set_permission(REPO, "bob", "read")
    repo = connect(github_api).get_repo(REPO)
    assert repo.get_collaborator_permission("alice") == "write"  # maintain folds into write
    assert repo.get_collaborator_permission("bob") == "read"
    assert repo.get_collaborator_permission("acme") == "admin"
    with pytest.raises(github.UnknownObjectException):
        repo.get_collaborator_permission("nobody-at-all")
    answer = raw(github_api, "GET", f"/repos/{REPO}/collaborators/alice/permission").json()
    assert (answer["role_name"], answer["user"]["permissions"]["maintain"]) == ("maintain", True)


def test_pulls_by_head_and_by_commit_model_forks(github_api):
    repo = connect(github_api, lazy=True).get_repo(REPO)  # lazy: get_commit(sha) makes no request
    [fork_pull] = repo.get_pulls(state="open", head="stranger:fix")
    assert fork_pull.number == 8 and fork_pull.head.repo.full_name == "stranger/evals" and fork_pull.head.repo.fork
    assert [p.number for p in repo.get_pulls(head="acme:feature")] == [7]
    assert [p.number for p in repo.get_commit(FORK_SHA).get_pulls()] == [8]
    assert repo.get_pull(7).base.ref == "main" and repo.get_pull(7).merged is False


def test_credentials_and_permissions(github_api):
    with pytest.raises(github.BadCredentialsException):
        connect(github_api, token="ghp_unknown").get_repo(REPO)
    read_only_pull = connect(github_api, token=READ_ONLY_TOKEN).get_repo(REPO).get_pull(8)
    with pytest.raises(github.GithubException) as refused:
        read_only_pull.create_issue_comment("from a fork's GITHUB_TOKEN")
    assert refused.value.status == 403 and refused.value.data["message"] == "Resource not accessible by integration"
    assert connect(github_api, token=ALICE_TOKEN).get_user().login == "alice"
    assert raw(github_api, "GET", "/user").json()["message"] == "Resource not accessible by integration"

    github_api.add_repo("acme/secret", private=True)
    assert raw(github_api, "GET", "/repos/acme/secret", token=None).status_code == 404
    assert raw(github_api, "GET", f"/repos/{REPO}", token=None).headers["x-ratelimit-limit"] == "60"
    assert raw(github_api, "POST", f"/repos/{REPO}/issues/7/comments", {"body": "x"}, token=None).status_code == 401
    hidden = raw(github_api, "POST", "/repos/acme/secret/dispatches", {"event_type": "x"}, token=ALICE_TOKEN)
    assert hidden.status_code == 404


def test_rate_limit_headers_and_exhaustion():
    with FakeGitHub(rate_limit=3) as fake:
        fake.add_repo(REPO)
        gh = connect(fake)
        gh.get_repo(REPO)
        first = fake.requests[-1]
        assert first.status == 200
        headers = raw(fake, "GET", f"/repos/{REPO}").headers
        counts = [headers[f"x-ratelimit-{name}"] for name in ("limit", "remaining", "used")]
        assert counts == ["3", "1", "2"]
        assert gh.get_rate_limit().resources.core.remaining == 1  # not counted itself
        gh.get_repo(REPO)
        with pytest.raises(github.RateLimitExceededException):
            gh.get_repo(REPO)


def test_scripted_429_is_retried_after_retry_after(github_api):
    github_api.fail_next("POST", "/repos/*/issues/*/comments", 429, headers={"Retry-After": "1"})
    pull = connect(github_api, retry=github.GithubRetry(total=3)).get_repo(REPO).get_pull(7)
    started = time.monotonic()
    pull.create_issue_comment("after a pause")
    assert time.monotonic() - started >= 1.0
    attempts = [r.status for r in github_api.requests if r.operation_id == "issues/create-comment"]
    assert attempts == [429, 201] and len(github_api.comments(REPO, 7)) == 1


def test_scripted_failures_surface_as_pygithub_exceptions(github_api):
    github_api.fail_next("GET", "/repos/{owner}/{repo}", 403, headers={"x-ratelimit-remaining": "0"})
    github_api.fail_next("*", "/repos/*/dispatches", 500, times=2)
    repo_api = connect(github_api)
    with pytest.raises(github.RateLimitExceededException) as limited:
        repo_api.get_repo(REPO)
    assert int(limited.value.headers["x-ratelimit-reset"]) > time.time()
    repo = repo_api.get_repo(REPO)
    # PyGithub reports a failed dispatch by returning False, never by raising
    assert [repo.create_repository_dispatch("start-evaluation") for _ in range(3)] == [False, False, True]
    failures = [r for r in github_api.requests if r.operation_id == "repos/create-dispatch-event"]
    assert [r.status for r in failures] == [500, 500, 204] and len(github_api.dispatches(REPO)) == 1
    unknown = raw(github_api, "GET", f"/repos/{REPO}/branches")
    assert (unknown.status_code, unknown.json()["message"]) == (404, "Not Found")
    assert unknown.json()["documentation_url"].startswith("https://docs.github.com/")


def test_requests_breaking_the_spec_get_422_and_are_recorded(github_api):
    bad = raw(github_api, "POST", f"/repos/{REPO}/statuses/{HEAD_SHA}", {"state": "bogus"})
    assert bad.status_code == 422
    assert bad.json()["message"].startswith("Invalid request.\n\nFor 'properties/state', 'bogus' is not one of")
    missing = raw(github_api, "POST", f"/repos/{REPO}/issues/7/comments", {"text": "wrong field"})
    assert missing.json()["message"] == 'Invalid request.\n\n"body" wasn\'t supplied.'
    with pytest.raises(github.GithubException) as refused:
        list(connect(github_api).get_repo(REPO).get_pulls(state="merged"))
    assert refused.value.status == 422
    assert raw(github_api, "POST", f"/repos/{REPO}/dispatches").status_code == 422  # no body at all
    violations = github_api.spec_violations
    assert [v.operation_id for v in violations] == [
        "repos/create-commit-status",
        "issues/create-comment",
        "pulls/list",
        "repos/create-dispatch-event",
    ]
    assert violations[0].body == {"state": "bogus"} and github_api.statuses(REPO) == []


def test_app_installation_tokens(github_api):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    installation_id = github_api.add_installation("acme", app_id=42, app_slug="scorecard-ci", public_key=public_pem)
    app = github.GithubIntegration(auth=github.Auth.AppAuth(42, private_pem), base_url=github_api.url)
    assert app.get_repo_installation("acme", "evals").id == installation_id
    token = app.get_access_token(installation_id).token
    assert token.startswith("ghs_")
    connect(github_api, token=token).get_repo(REPO).get_pull(7).create_issue_comment("from the app")
    assert github_api.comments(REPO, 7)[-1].user == "scorecard-ci[bot]"

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = github.Auth.AppAuth(
        42,
        other_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )
    with pytest.raises(github.GithubException) as refused:
        github.GithubIntegration(auth=forged, base_url=github_api.url).get_access_token(installation_id)
    assert refused.value.status == 401
    not_a_jwt = requests.post(
        f"{github_api.url}/app/installations/{installation_id}/access_tokens",
        headers={"Authorization": f"Bearer {ACTIONS_TOKEN}"},
        timeout=5,
    )
    assert not_a_jwt.json()["message"] == "A JSON web token could not be decoded"


def test_an_answer_against_the_spec_fails_loudly():
    fake = FakeGitHub().start()
    fake.add_repo(REPO)
    fake.add_pull(REPO, 7, head_sha=HEAD_SHA, head_ref="feature", base_ref="main")
    fake.add_comment(REPO, 7, body=12345)  # type: ignore[arg-type]  # GitHub's comment bodies are strings
    answer = raw(fake, "GET", f"/repos/{REPO}/issues/7/comments")
    assert answer.status_code == 500 and "is not of type 'string'" in answer.json()["message"]
    with pytest.raises(AssertionError, match="answered against GitHub's spec"):
        fake.stop()
