"""The fake GitHub's objects in GitHub's JSON shapes (repository, pull request, issue comment, ...).

API links point at the fake (``api`` is its base URL), so clients that follow them stay on
loopback; human links (``html_url``) point at github.com as GitHub's do. The shapes are checked
against the spec on every response, so a missing field here fails the test that needed it.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote

from tests.fakes.github_model import (
    LEVELS,
    App,
    CheckRun,
    Comment,
    Installation,
    Pull,
    Reaction,
    Repo,
    Status,
    Workflow,
    WorkflowRun,
    World,
    now_iso,
    sha_of,
)

HTML = "https://github.com"
# GitHub's hypermedia templates on a repository, after {api}/repos/{owner}/{repo}
REPO_LINKS = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}
USER_LINKS = {
    "followers_url": "/followers",
    "following_url": "/following{/other_user}",
    "gists_url": "/gists{/gist_id}",
    "starred_url": "/starred{/owner}{/repo}",
    "subscriptions_url": "/subscriptions",
    "organizations_url": "/orgs",
    "repos_url": "/repos",
    "events_url": "/events{/privacy}",
    "received_events_url": "/received_events",
}
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0:{kind}{number}".encode()).decode().rstrip("=")


class Payloads:
    def __init__(self, world: World, api: str) -> None:
        self.world = world
        self.api = api

    def user(self, login: str) -> dict[str, Any]:
        user = self.world.user(login)
        url = f"{self.api}/users/{quote(user.login)}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id(user.type, user.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{HTML}/{quote(user.login)}",
            **{name: url + suffix for name, suffix in USER_LINKS.items()},
            "type": user.type,
            "site_admin": False,
            "user_view_type": "public",
        }

    def repository(self, repo: Repo) -> dict[str, Any]:
        url = f"{self.api}/repos/{repo.full_name}"
        return {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.user(repo.owner),
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "fork": repo.fork,
            "description": None,
            "homepage": None,
            "language": "Python",
            "license": None,
            "url": url,
            "html_url": f"{HTML}/{repo.full_name}",
            **{name: url + suffix for name, suffix in REPO_LINKS.items()},
            "clone_url": f"{HTML}/{repo.full_name}.git",
            "git_url": f"git://github.com/{repo.full_name}.git",
            "ssh_url": f"git@github.com:{repo.full_name}.git",
            "svn_url": f"{HTML}/{repo.full_name}",
            "mirror_url": None,
            "default_branch": repo.default_branch,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "open_issues": 0,
            "open_issues_count": 0,
            "size": 0,
            "network_count": 0,
            "subscribers_count": 0,
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "topics": [],
            "pushed_at": repo.created_at,
            "created_at": repo.created_at,
            "updated_at": repo.created_at,
        }

    def pull(self, pull: Pull, detailed: bool = True) -> dict[str, Any]:
        base_repo = self.world.repo(pull.repo)
        head_repo = self.world.repo(pull.head_repo)
        url = f"{self.api}/repos/{pull.repo}/pulls/{pull.number}"
        issue_url = f"{self.api}/repos/{pull.repo}/issues/{pull.number}"
        html = f"{HTML}/{pull.repo}/pull/{pull.number}"
        closed_at = None if pull.state == "open" else pull.created_at
        repo_url = f"{self.api}/repos/{pull.repo}"
        links = {
            "self": url,
            "html": html,
            "issue": issue_url,
            "comments": f"{issue_url}/comments",
            "review_comments": f"{url}/comments",
            "review_comment": f"{repo_url}/pulls/comments{{/number}}",
            "commits": f"{url}/commits",
            "statuses": f"{repo_url}/statuses/{pull.head_sha}",
        }
        payload: dict[str, Any] = {
            "url": url,
            "id": pull.id,
            "node_id": node_id("PullRequest", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "commits_url": links["commits"],
            "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"],
            "comments_url": links["comments"],
            "statuses_url": links["statuses"],
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user(pull.user),
            "body": None,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": pull.created_at,
            "updated_at": pull.created_at,
            "closed_at": closed_at,
            "merged_at": closed_at if pull.merged else None,
            "merge_commit_sha": sha_of(f"merge {pull.id}") if pull.merged else None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._branch(head_repo, pull.head_ref, pull.head_sha),
            "base": self._branch(base_repo, pull.base_ref, sha_of(f"{base_repo.full_name}@{pull.base_ref}")),
            "_links": {name: {"href": href} for name, href in links.items()},
            "author_association": self.association(base_repo, pull.user),
            "auto_merge": None,
            "draft": False,
        }
        if detailed:
            payload.update(
                {
                    "merged": pull.merged,
                    "mergeable": None,
                    "rebaseable": None,
                    "mergeable_state": "unknown",
                    "merged_by": self.user(base_repo.owner) if pull.merged else None,
                    "comments": sum(
                        c.repo == pull.repo and c.issue_number == pull.number for c in self.world.comments.values()
                    ),
                    "review_comments": 0,
                    "maintainer_can_modify": False,
                    "commits": 1,
                    "additions": 0,
                    "deletions": 0,
                    "changed_files": 0,
                }
            )
        return payload

    def _branch(self, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repository(repo),
        }

    def pull_minimal(self, pull: Pull) -> dict[str, Any]:
        """The short form inside workflow runs and check runs."""

        def ref(repo: Repo, name: str, sha: str) -> dict[str, Any]:
            return {
                "ref": name,
                "sha": sha,
                "repo": {"id": repo.id, "url": f"{self.api}/repos/{repo.full_name}", "name": repo.name},
            }

        base_repo = self.world.repo(pull.repo)
        return {
            "id": pull.id,
            "number": pull.number,
            "url": f"{self.api}/repos/{pull.repo}/pulls/{pull.number}",
            "head": ref(self.world.repo(pull.head_repo), pull.head_ref, pull.head_sha),
            "base": ref(base_repo, pull.base_ref, sha_of(f"{base_repo.full_name}@{pull.base_ref}")),
        }

    def comment(self, comment: Comment) -> dict[str, Any]:
        url = f"{self.api}/repos/{comment.repo}/issues/comments/{comment.id}"
        reactions = [r for r in self.world.reactions if r.comment_id == comment.id]
        return {
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "url": url,
            "html_url": f"{HTML}/{comment.repo}/pull/{comment.issue_number}#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "issue_url": f"{self.api}/repos/{comment.repo}/issues/{comment.issue_number}",
            "author_association": self.association(self.world.repo(comment.repo), comment.user),
            "performed_via_github_app": None,
            "reactions": {
                "url": f"{url}/reactions",
                "total_count": len(reactions),
                **{content: sum(r.content == content for r in reactions) for content in REACTIONS},
            },
        }

    def reaction(self, reaction: Reaction) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "node_id": node_id("Reaction", reaction.id),
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": reaction.created_at,
        }

    def status(self, status: Status) -> dict[str, Any]:
        creator = self.user(status.creator)
        return {
            "url": f"{self.api}/repos/{status.repo}/statuses/{status.sha}",
            "avatar_url": creator["avatar_url"],
            "id": status.id,
            "node_id": node_id("StatusContext", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": status.created_at,
            "updated_at": status.created_at,
            "creator": creator,
        }

    def check_run(self, check: CheckRun) -> dict[str, Any]:
        url = f"{self.api}/repos/{check.repo}/check-runs/{check.id}"
        app = self.world.apps.get(check.app_id) if check.app_id is not None else None
        pulls = [p for p in self.world.pulls.values() if p.repo == check.repo and p.head_sha == check.head_sha]
        return {
            "id": check.id,
            "node_id": node_id("CheckRun", check.id),
            "head_sha": check.head_sha,
            "external_id": check.external_id,
            "url": url,
            "html_url": f"{HTML}/{check.repo}/runs/{check.id}",
            "details_url": check.details_url,
            "status": check.status,
            "conclusion": check.conclusion,
            "started_at": check.started_at,
            "completed_at": check.completed_at,
            "name": check.name,
            "output": {
                "title": check.output.get("title"),
                "summary": check.output.get("summary"),
                "text": check.output.get("text"),
                "annotations_count": len(check.output.get("annotations", [])),
                "annotations_url": f"{url}/annotations",
            },
            "check_suite": {"id": check.id + 1_000_000},
            "app": None if app is None else self.app(app),
            "pull_requests": [self.pull_minimal(p) for p in pulls],
        }

    def app(self, app: App) -> dict[str, Any]:
        owner = next((i.account for i in self.world.installations.values() if i.app_id == app.id), f"{app.slug}[bot]")
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": node_id("App", app.id),
            "owner": self.user(owner),
            "name": app.slug,
            "description": None,
            "external_url": f"{HTML}/apps/{app.slug}",
            "html_url": f"{HTML}/apps/{app.slug}",
            "created_at": now_iso(0),
            "updated_at": now_iso(0),
            "permissions": {},
            "events": [],
        }

    def workflow(self, workflow: Workflow) -> dict[str, Any]:
        repo = self.world.repo(workflow.repo)
        return {
            "id": workflow.id,
            "node_id": node_id("Workflow", workflow.id),
            "name": workflow.name,
            "path": workflow.path,
            "state": "active",
            "created_at": workflow.created_at,
            "updated_at": workflow.created_at,
            "url": f"{self.api}/repos/{workflow.repo}/actions/workflows/{workflow.id}",
            "html_url": f"{HTML}/{workflow.repo}/blob/{repo.default_branch}/{workflow.path}",
            "badge_url": f"{HTML}/{workflow.repo}/workflows/{quote(workflow.name)}/badge.svg",
        }

    def workflow_run(self, run: WorkflowRun) -> dict[str, Any]:
        workflow = self.world.workflows[run.workflow_id]
        repo = self.repository(self.world.repo(run.repo))
        url = f"{self.api}/repos/{run.repo}/actions/runs/{run.id}"
        pulls = [
            p
            for p in self.world.pulls.values()
            if p.repo == run.repo and p.head_sha == run.head_sha and p.state == "open"
        ]
        committer = {"name": run.actor, "email": f"{run.actor}@users.noreply.github.com"}
        return {
            "id": run.id,
            "name": workflow.name,
            "node_id": node_id("WorkflowRun", run.id),
            "check_suite_id": run.id + 1_000_000,
            "check_suite_node_id": node_id("CheckSuite", run.id),
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": workflow.path,
            "display_title": workflow.name,
            "run_number": run.run_number,
            "run_attempt": 1,
            "event": run.event,
            "status": run.status,
            "conclusion": run.conclusion,
            "workflow_id": workflow.id,
            "url": url,
            "html_url": f"{HTML}/{run.repo}/actions/runs/{run.id}",
            "pull_requests": [self.pull_minimal(p) for p in pulls],
            "created_at": run.created_at,
            "updated_at": run.created_at,
            "run_started_at": run.created_at,
            "actor": self.user(run.actor),
            "triggering_actor": self.user(run.actor),
            "jobs_url": f"{url}/jobs",
            "logs_url": f"{url}/logs",
            "artifacts_url": f"{url}/artifacts",
            "cancel_url": f"{url}/cancel",
            "rerun_url": f"{url}/rerun",
            "previous_attempt_url": None,
            "check_suite_url": f"{self.api}/repos/{run.repo}/check-suites/{run.id + 1_000_000}",
            "workflow_url": f"{self.api}/repos/{run.repo}/actions/workflows/{workflow.id}",
            "head_commit": {
                "id": run.head_sha,
                "tree_id": sha_of(f"tree {run.head_sha}"),
                "message": workflow.name,
                "timestamp": run.created_at,
                "author": committer,
                "committer": committer,
            },
            "repository": repo,
            "head_repository": repo,
        }

    def installation(self, installation: Installation) -> dict[str, Any]:
        app = self.world.apps[installation.app_id]
        account = self.world.user(installation.account)
        return {
            "id": installation.id,
            "account": self.user(account.login),
            "repository_selection": "all" if installation.repositories is None else "selected",
            "access_tokens_url": f"{self.api}/app/installations/{installation.id}/access_tokens",
            "repositories_url": f"{self.api}/installation/repositories",
            "html_url": f"{HTML}/settings/installations/{installation.id}",
            "app_id": app.id,
            "app_slug": app.slug,
            "target_id": account.id,
            "target_type": account.type,
            "permissions": installation.permissions,
            "events": ["pull_request", "issue_comment", "workflow_run"],
            "created_at": installation.created_at,
            "updated_at": installation.created_at,
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def collaborator_permission(self, repo: Repo, login: str) -> dict[str, Any]:
        level = self.world.level(repo, login)
        # maintain and triage are roles; the legacy "permission" field folds them into write and read
        permission = {"maintain": "write", "triage": "read"}.get(level, level)
        rank = LEVELS.index(level)
        flags = {
            "pull": rank >= LEVELS.index("read"),
            "triage": rank >= LEVELS.index("triage"),
            "push": rank >= LEVELS.index("write"),
            "maintain": rank >= LEVELS.index("maintain"),
            "admin": level == "admin",
        }
        return {
            "permission": permission,
            "role_name": level,
            "user": {**self.user(login), "permissions": flags, "role_name": level},
        }

    def rate_limit(self, limit: int, used: int, reset: int) -> dict[str, Any]:
        core = {"limit": limit, "used": used, "remaining": max(limit - used, 0), "reset": reset}
        search = {"limit": 30, "used": 0, "remaining": 30, "reset": int(time.time()) + 60}
        return {"resources": {"core": core, "search": search}, "rate": core}

    def association(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        return "COLLABORATOR" if login.lower() in repo.permissions else "NONE"
