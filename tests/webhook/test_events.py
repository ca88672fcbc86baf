"""What each delivery does, seen from outside: runs in our API and calls on the fake GitHub.

Every payload is one of GitHub's examples (tests/fixtures/github/webhook-examples.json), edited
only where a scenario needs it (a merged pull request, a ``/scorecard run`` comment)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.fakes.github_server import ACTIONS_BOT
from tests.webhook.conftest import (
    PR_BASE_REF,
    PR_HEAD_REF,
    PR_HEAD_SHA,
    PR_NUMBER,
    REPO,
    WORKFLOW,
    example,
    examples,
)

PR_EVALUATED = ("opened", "reopened", "synchronize")


def runs_of(client, project) -> list[dict[str, Any]]:
    return list(client.paginate(f"/projects/{project['id']}/runs"))


def connect(client, project, **changes) -> None:
    client.put(
        f"/projects/{project['id']}/github",
        {
            "repo": REPO,
            "branch": PR_BASE_REF,
            "workflow": WORKFLOW,
            "testsetId": project["testset"]["id"],
            "metricIds": [project["metric"]["id"]],
            "auth": "token",
            **changes,
        },
    )


def command(github, login: str, body: str = "/scorecard run", number: int = PR_NUMBER) -> dict[str, Any]:
    """An issue_comment payload for a comment ``login`` wrote on pull request ``number``."""
    payload = example("issue_comment", "created")
    comment_id = github.add_comment(REPO, number, body, user=login)
    payload["issue"].update(number=number, pull_request={"url": f"https://api.github.com/repos/{REPO}/pulls/{number}"})
    payload["comment"].update(id=comment_id, body=body)
    payload["comment"]["user"]["login"] = login
    return payload


def workflow_run(
    actions_run_id: int, conclusion: str, head_sha: str = PR_HEAD_SHA, workflow: str = WORKFLOW
) -> dict[str, Any]:
    payload = example("workflow_run", "completed")
    payload["repository"] = example("pull_request", "opened")["repository"]
    payload["workflow"]["path"] = f".github/workflows/{workflow}"
    payload["workflow_run"].update(
        id=actions_run_id,
        head_sha=head_sha,
        status="completed",
        conclusion=conclusion,
        path=f".github/workflows/{workflow}",
        html_url=f"https://github.com/{REPO}/actions/runs/{actions_run_id}",
    )
    return payload


def test_every_example_payload_is_accepted_and_the_relevant_ones_act(sender, github, client, project):
    accepted = []
    for event, payloads in examples().items():
        for payload in payloads:
            delivery = str(uuid.uuid4())
            response = sender.send(event, payload, delivery)
            assert response.status_code in (200, 202), (event, payload.get("action"), response.text)
            if response.json()["message"] == "accepted":
                accepted.append((event, payload.get("action"), delivery))
    outcomes = {(event, action, sender.wait(delivery).status) for event, action, delivery in accepted}
    assert {status for _event, _action, status in outcomes} == {"processed"}, outcomes

    # The same-repository pull request examples that open or move start one evaluation each.
    expected = sum(p["action"] in PR_EVALUATED for p in examples()["pull_request"])
    dispatches = github.workflow_dispatches(REPO)
    assert len(dispatches) == expected == 7
    assert {d.ref for d in dispatches} == {PR_HEAD_REF}
    runs = runs_of(client, project)
    assert sorted(d.inputs["run_id"] for d in dispatches) == sorted(r["id"] for r in runs)
    actions_run_of = {d.inputs["run_id"]: d.run_id for d in dispatches}
    for run in runs:
        assert run["source"] == "github" and run["status"] == "awaiting_execution"
        assert run["git"]["repo"] == REPO and run["git"]["ref"] == PR_HEAD_REF
        assert run["git"]["sha"] == PR_HEAD_SHA and run["git"]["prNumber"] == PR_NUMBER
        assert run["git"]["actionsRunUrl"].endswith(f"/actions/runs/{actions_run_of[run['id']]}")

    # installation "created" names the repository: the connection learns its installation.
    assert client.get(f"/projects/{project['id']}/github")["installationId"] == 957387
    # Nothing else was written: the example comments are on an issue, not a /scorecard run.
    assert github.comments(REPO, PR_NUMBER) == [] and github.statuses(REPO) == []


def test_a_fork_pull_request_waits_for_a_maintainer(sender, github, project):
    payload = example("pull_request", "opened")
    payload["pull_request"]["head"]["repo"]["full_name"] = "someone/Hello-World"
    assert sender.deliver("pull_request", payload).status == "processed"
    assert github.workflow_dispatches(REPO) == []


def test_pull_requests_start_nothing_when_their_triggers_are_off(sender, github, client, project):
    connect(client, project, onPullRequest=False, onMerge=False)
    merged = example("pull_request", "closed")
    merged["pull_request"].update(merged=True, merge_commit_sha="f" * 40)
    for event, payload in (("pull_request", example("pull_request", "opened")), ("pull_request", merged)):
        assert sender.deliver(event, payload).status == "processed"
    assert github.workflow_dispatches(REPO) == [] and runs_of(client, project) == []


def test_a_merged_pull_request_evaluates_the_base_branch(sender, github, client, project):
    closed = example("pull_request", "closed")
    assert closed["pull_request"]["merged"] is False
    assert sender.deliver("pull_request", closed).status == "processed"
    assert github.workflow_dispatches(REPO) == []

    closed["pull_request"].update(merged=True, merge_commit_sha="f" * 40)
    assert sender.deliver("pull_request", closed).status == "processed"
    (dispatch,) = github.workflow_dispatches(REPO)
    assert dispatch.ref == PR_BASE_REF
    (run,) = runs_of(client, project)
    assert run["git"]["ref"] == PR_BASE_REF and run["git"]["sha"] == "f" * 40 and "prNumber" not in run["git"]


def test_scorecard_run_from_a_read_only_user_is_refused_with_a_reply(sender, github, client, project):
    github.set_permission(REPO, "reader", "read")
    payload = command(github, "reader")
    assert sender.deliver("issue_comment", payload).status == "processed"
    assert github.workflow_dispatches(REPO) == [] and runs_of(client, project) == []
    reply = github.comments(REPO, PR_NUMBER)[-1]
    assert reply.user == ACTIONS_BOT and "@reader" in reply.body and "`read`" in reply.body
    assert "write" in reply.body and "/scorecard run" in reply.body
    assert github.reactions(payload["comment"]["id"]) == []


def test_scorecard_run_from_a_writer_evaluates_the_pull_request(sender, github, client, project):
    for login, level in (("writer", "write"), ("maintainer", "maintain")):
        github.set_permission(REPO, login, level)
        payload = command(github, login, body="  /scorecard run  \r\nthe flaky case should pass now")
        assert sender.deliver("issue_comment", payload).status == "processed"
        reactions = [r.content for r in github.reactions(payload["comment"]["id"])]
        assert reactions == ["+1", "rocket"]
    dispatches = github.workflow_dispatches(REPO)
    assert [d.ref for d in dispatches] == [PR_HEAD_REF] * 2
    assert {r["git"]["prNumber"] for r in runs_of(client, project)} == {PR_NUMBER}
    assert len(github.comments(REPO, PR_NUMBER)) == 2  # the two commands; no replies


def test_scorecard_run_that_github_refuses_says_why(sender, github, client, project):
    github.set_permission(REPO, "writer", "write")
    github.fail_next("POST", "/repos/*/actions/workflows/*/dispatches", 403)
    payload = command(github, "writer")
    failed = sender.deliver("issue_comment", payload)
    assert failed.status == "failed" and "403" in failed.error
    reply = github.comments(REPO, PR_NUMBER)[-1]
    assert "@writer the evaluation could not start" in reply.body and "actions: write" in reply.body
    assert [r.content for r in github.reactions(payload["comment"]["id"])] == ["+1"]
    (run,) = runs_of(client, project)
    assert run["status"] == "error"


def test_scorecard_run_on_a_fork_runs_the_base_repositorys_workflow(sender, github, client, project):
    github.add_pull(
        REPO, 3, head_sha="a" * 40, head_ref="feature", base_ref=PR_BASE_REF, head_repo="someone/Hello-World"
    )
    github.set_permission(REPO, "writer", "write")
    assert sender.deliver("issue_comment", command(github, "writer", number=3)).status == "processed"
    (dispatch,) = github.workflow_dispatches(REPO)
    assert dispatch.ref == PR_BASE_REF
    (run,) = runs_of(client, project)
    assert run["git"] | {"actionsRunUrl": None} == {
        "repo": REPO,
        "ref": "feature",
        "sha": "a" * 40,
        "prNumber": 3,
        "actionsRunUrl": None,
    }


def test_comments_that_are_not_the_command_are_left_alone(sender, github, client, project):
    github.set_permission(REPO, "writer", "write")
    for body in ("/scorecard runs", "please /scorecard run", "LGTM\n/scorecard run"):
        assert sender.deliver("issue_comment", command(github, "writer", body=body)).status == "processed"
    assert github.workflow_dispatches(REPO) == [] and github.requests == []


def test_a_workflow_that_died_before_uploading_fails_its_run_and_the_pr_says_so(sender, github, client, project):
    assert sender.deliver("pull_request", example("pull_request", "opened")).status == "processed"
    (dispatch,) = github.workflow_dispatches(REPO)
    github.update_workflow_run(dispatch.run_id, "completed", "failure")

    assert sender.deliver("workflow_run", workflow_run(dispatch.run_id, "failure")).status == "processed"
    (run,) = runs_of(client, project)
    actions_url = f"https://github.com/{REPO}/actions/runs/{dispatch.run_id}"
    assert run["status"] == "error" and "failure" in run["error"] and actions_url in run["error"]
    (status,) = github.statuses(REPO, PR_HEAD_SHA)
    assert status.state == "error" and status.target_url.endswith(f"/runs/{run['id']}")
    (comment,) = github.comments(REPO, PR_NUMBER)
    assert f"/runs/{run['id']}" in comment.body


def test_a_repository_dispatch_run_is_linked_by_commit_and_workflow(sender, github, client, project):
    connect(client, project, dispatch="repository_dispatch", onPullRequest=True)
    assert sender.deliver("pull_request", example("pull_request", "opened")).status == "processed"
    assert len(github.dispatches(REPO)) == 1
    (run,) = runs_of(client, project)
    assert "actionsRunUrl" not in run["git"]

    # Another workflow failing on the same commit is not ours.
    assert sender.deliver("workflow_run", workflow_run(501, "failure", workflow="ci.yml")).status == "processed"
    assert client.get(f"/runs/{run['id']}") == run

    assert sender.deliver("workflow_run", workflow_run(502, "cancelled")).status == "processed"
    run = client.get(f"/runs/{run['id']}")
    assert run["git"]["actionsRunUrl"] == f"https://github.com/{REPO}/actions/runs/502"
    assert run["status"] == "error" and "cancelled" in run["error"]


def test_a_successful_workflow_only_links_its_run(sender, github, client, project):
    assert sender.deliver("pull_request", example("pull_request", "opened")).status == "processed"
    (dispatch,) = github.workflow_dispatches(REPO)
    before = runs_of(client, project)[0]
    assert sender.deliver("workflow_run", workflow_run(dispatch.run_id, "success")).status == "processed"
    after = client.get(f"/runs/{before['id']}")
    assert after["status"] == before["status"] and after["git"] == before["git"]
    assert github.statuses(REPO) == [] and github.comments(REPO, PR_NUMBER) == []


def test_installations_are_recorded_on_connections_of_their_repositories(sender, client, project):
    def installation_id() -> int | None:
        return client.get(f"/projects/{project['id']}/github")["installationId"]

    created = example("installation", "created")
    created["installation"]["id"] = 4242
    assert sender.deliver("installation", created).status == "processed"
    assert installation_id() == 4242

    removed = example("installation_repositories", "removed")
    removed["installation"]["id"] = 4242
    removed["repositories_removed"] = [{"full_name": REPO.lower()}]  # GitHub's names ignore case
    assert sender.deliver("installation_repositories", removed).status == "processed"
    assert installation_id() is None

    added = example("installation_repositories", "added")
    added["installation"]["id"] = 4243
    added["repositories_added"] = [{"full_name": REPO}]
    assert sender.deliver("installation_repositories", added).status == "processed"
    assert installation_id() == 4243

    deleted = example("installation", "deleted")
    deleted["installation"]["id"] = 4243
    assert sender.deliver("installation", deleted).status == "processed"
    assert installation_id() is None
