"""The runner's configuration: the Action's inputs, falling back to the triggering event.

A `repository_dispatch` (`start-evaluation`) carries a snake_case ``client_payload``; a
`workflow_dispatch` carries ``inputs`` with the same names. So Scorecard's own generated workflow,
and our kickoffs, work unchanged. Every missing or malformed value is one `ConfigError` naming the
input and the fix.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scorecard_core.errors import ScorecardError
from scorecard_core.git import GitContext
from scorecard_core.links import HOSTED_API_URL

from .shards import Shard

NUMERIC_ID = re.compile(r"^\d{1,18}$")
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0", ""}
# `full` does everything in one job; a sharded workflow runs `create`, then `shard` in a matrix,
# then `report`.
MODES = ("full", "create", "shard", "report")
CALLS_THE_SYSTEM = ("full", "shard")
RUN_ID_FROM_CREATE = "`run-id: ${{ needs.create.outputs.run-id }}`"


class ConfigError(ScorecardError):
    """A missing or malformed input; the message names the input and what to do."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"input `{name}` {problem}", {"input": name})
        self.input = name


@dataclass(frozen=True)
class RunnerConfig:
    api_url: str
    api_key: str
    project_id: str
    testset_id: str
    metric_ids: list[str]
    system: str
    system_version_id: str | None = None
    run_id: str | None = None
    concurrency: int = 8
    timeout: float = 300.0
    trials: int = 1
    fail_under: str = ""
    # The rest of the gate, parsed by gate.parse_policy (which names a bad input).
    fail_under_mode: str = "point"
    fail_on_regression: bool = False
    regression_margin: str = ""
    alpha: str = ""
    model_prices: str = ""  # JSON price table over the defaults (prices.parse_prices)
    wait_for_scores: bool = True
    score_timeout: float = 1800.0
    comment: bool = True
    github_token: str | None = None
    working_directory: Path = field(default_factory=Path.cwd)
    python: str = "python"
    baseline_run_id: str | None = None
    git: GitContext = field(default_factory=GitContext)
    mode: str = "full"
    shard: Shard | None = None  # mode `shard`: the slice of the testset this job runs
    shard_count: int | None = None  # mode `report`: how many shards, to name the failed ones


def _event(env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    name = env.get("GITHUB_EVENT_NAME", "")
    path = env.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).is_file():
        return name, {}
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return name, {}
    return name, payload if isinstance(payload, dict) else {}


def _event_values(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The kickoff values an event carries: client_payload or workflow_dispatch inputs."""
    if name == "repository_dispatch":
        values = payload.get("client_payload")
    elif name == "workflow_dispatch":
        values = payload.get("inputs")
    else:
        values = None
    return values if isinstance(values, dict) else {}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value).strip()


def _numeric_id(name: str, value: str) -> str:
    if not value:
        raise ConfigError(name, "is required: the numeric ID from the Scorecard URL (e.g. `123`)")
    if not NUMERIC_ID.match(value):
        raise ConfigError(name, f"must be a numeric ID such as `123`, not {value!r}")
    return value


def _optional_id(name: str, value: str) -> str | None:
    return _numeric_id(name, value) if value else None


def _metric_ids(value: str) -> list[str]:
    ids = [part for part in re.split(r"[\s,]+", value) if part]
    if not ids:
        raise ConfigError("metric-ids", "is required: comma-separated metric IDs, e.g. `12,34`")
    for part in ids:
        if not NUMERIC_ID.match(part):
            raise ConfigError("metric-ids", f"must be comma-separated numeric IDs such as `12,34`; {part!r} is not one")
    return list(dict.fromkeys(ids))


def _positive(name: str, value: str, default: float, kind: type = int) -> Any:
    if not value:
        return kind(default)
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(name, f"must be a positive {'whole ' if kind is int else ''}number, not {value!r}") from None
    if number <= 0:
        raise ConfigError(name, f"must be greater than 0, not {value!r}")
    return number


def _flag(name: str, value: str, default: bool) -> bool:
    lowered = value.lower()
    if not lowered:
        return default
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ConfigError(name, f"must be `true` or `false`, not {value!r}")


def _mode(value: str) -> str:
    mode = value.lower() or "full"
    if mode not in MODES:
        raise ConfigError("mode", f"must be one of {', '.join(f'`{m}`' for m in MODES)}, not {value!r}")
    return mode


def _shard(mode: str, value: str) -> Shard | None:
    if mode != "shard":
        if value:
            raise ConfigError(
                "shard", f"is only used with `mode: shard`, not `mode: {mode}`; remove it or set the mode"
            )
        return None
    if not value:
        raise ConfigError("shard", "is required with `mode: shard`: which slice this job runs, e.g. `2/3`")
    shard = Shard.parse(value)
    if shard is None:
        raise ConfigError(
            "shard", f"must be `i/N` with i from 1 to N, e.g. `2/3` for the second of three shards, not {value!r}"
        )
    return shard


def _shard_count(mode: str, value: str) -> int | None:
    if value and mode != "report":
        raise ConfigError("shard-count", f"is only used with `mode: report`, not `mode: {mode}`; remove it")
    return _positive("shard-count", value, 0) or None


def _run_id(mode: str, value: str) -> str | None:
    if not value and mode in ("shard", "report"):
        raise ConfigError(
            "run-id", f"is required with `mode: {mode}`: the run the `create` job made, {RUN_ID_FROM_CREATE}"
        )
    return _optional_id("run-id", value)


def git_context(env: Mapping[str, str], event_name: str, payload: dict[str, Any]) -> GitContext:
    repo = env.get("GITHUB_REPOSITORY")
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    run_id = env.get("GITHUB_RUN_ID")
    actions_url = f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None
    pull = payload.get("pull_request") if isinstance(payload.get("pull_request"), dict) else None
    if pull:
        head = pull.get("head") or {}
        base = pull.get("base") or {}
        head_repo = (head.get("repo") or {}).get("full_name")
        return GitContext(
            repo=repo,
            ref=head.get("ref"),
            sha=head.get("sha") or env.get("GITHUB_SHA"),
            pr_number=pull.get("number"),
            base_ref=base.get("ref"),
            actions_run_url=actions_url,
            event_name=event_name,
            fork=bool(head_repo and repo and head_repo != repo),
        )
    ref = env.get("GITHUB_REF_NAME") or (env.get("GITHUB_REF") or "").removeprefix("refs/heads/") or None
    return GitContext(repo=repo, ref=ref, sha=env.get("GITHUB_SHA"), actions_run_url=actions_url, event_name=event_name)


def load(env: Mapping[str, str] | None = None) -> RunnerConfig:
    """Read the configuration from ``SCORECARD_*`` variables (set by action.yml from its inputs)."""
    env = os.environ if env is None else env
    event_name, payload = _event(env)
    fallback = _event_values(event_name, payload)

    def value(name: str) -> str:
        """An input, else the event's snake_case value of the same name."""
        explicit = env.get("SCORECARD_" + name.upper().replace("-", "_"), "").strip()
        return explicit or _text(fallback.get(name.replace("-", "_")))

    api_key = value("api-key")
    if not api_key:
        raise ConfigError("api-key", "is required: store your Scorecard API key as a repository secret and pass it in")
    # How the workflow is split up, never from a kickoff's payload.
    mode = _mode(env.get("SCORECARD_MODE", "").strip())
    system = value("system")
    if not system and mode in CALLS_THE_SYSTEM:
        raise ConfigError("system", "is required: `package.module:function`, `cmd:<command>` or an http(s) URL")
    working_directory = Path(value("working-directory") or ".").expanduser()
    if not working_directory.is_dir():
        raise ConfigError("working-directory", f"is not a directory: {working_directory}")
    api_url = (value("api-url") or HOSTED_API_URL).rstrip("/")
    if not re.match(r"^https?://", api_url):
        raise ConfigError("api-url", f"must be an http(s) URL such as {HOSTED_API_URL}, not {api_url!r}")
    return RunnerConfig(
        api_url=api_url,
        api_key=api_key,
        project_id=_numeric_id("project-id", value("project-id")),
        testset_id=_numeric_id("testset-id", value("testset-id")),
        metric_ids=_metric_ids(value("metric-ids")),
        system=system,
        system_version_id=value("system-version-id") or None,
        run_id=_run_id(mode, value("run-id")),
        concurrency=_positive("concurrency", value("concurrency"), 8),
        timeout=_positive("timeout", value("timeout"), 300.0, float),
        trials=_positive("trials", value("trials"), 1),
        fail_under=value("fail-under"),
        fail_under_mode=value("fail-under-mode") or "point",
        fail_on_regression=_flag("fail-on-regression", value("fail-on-regression"), False),
        regression_margin=value("regression-margin"),
        alpha=value("alpha"),
        model_prices=value("model-prices"),
        wait_for_scores=_flag("wait-for-scores", value("wait-for-scores"), True),
        score_timeout=_positive("score-timeout", value("score-timeout"), 1800.0, float),
        comment=_flag("comment", value("comment"), True),
        github_token=value("github-token") or None,
        working_directory=working_directory.resolve(),
        python=value("python") or "python",
        baseline_run_id=_optional_id("baseline-run-id", value("baseline-run-id")),
        git=git_context(env, event_name, payload),
        mode=mode,
        shard=_shard(mode, env.get("SCORECARD_SHARD", "").strip()),
        shard_count=_shard_count(mode, env.get("SCORECARD_SHARD_COUNT", "").strip()),
    )
