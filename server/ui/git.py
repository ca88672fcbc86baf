"""A run's git context as links: repository, ref, commit, pull request, Actions run.

The context is untrusted text from whoever created the run, so a link is made only from values
of the expected shape, and the Actions run URL only when it is http(s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

GITHUB = "https://github.com"
REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
SHA = re.compile(r"[0-9a-fA-F]{7,64}")


@dataclass(frozen=True)
class GitLink:
    label: str
    text: str
    href: str | None


def web_link(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def git_links(git: dict[str, Any]) -> list[GitLink]:
    repo, ref, sha = git.get("repo"), git.get("ref"), git.get("sha")
    pr, actions_run = git.get("prNumber"), git.get("actionsRunUrl")
    # GitHub Enterprise runs link to their own host; take it from the Actions run URL.
    actions_link = web_link(actions_run)
    host = f"{urlsplit(actions_link).scheme}://{urlsplit(actions_link).netloc}" if actions_link else GITHUB
    repo_url = f"{host}/{repo}" if isinstance(repo, str) and REPO.fullmatch(repo) else None

    links: list[GitLink] = []
    if repo:
        links.append(GitLink("Repository", str(repo), repo_url))
    if ref:
        links.append(GitLink("Ref", str(ref), None))
    if sha:
        commit_url = f"{repo_url}/commit/{sha}" if repo_url and isinstance(sha, str) and SHA.fullmatch(sha) else None
        links.append(GitLink("Commit", str(sha)[:12], commit_url))
    if pr is not None:
        pr_url = f"{repo_url}/pull/{pr}" if repo_url and isinstance(pr, int) else None
        links.append(GitLink("Pull request", f"#{pr}", pr_url))
    if actions_run:
        links.append(GitLink("Actions run", str(actions_run), actions_link))
    return links
