"""The runner's questions to Scorecard, put in terms of its inputs.

:class:`~scorecard_core.scorecard_api.ScorecardApi` does the talking; this adds what only the
runner knows: which run to fill (the ``run-id`` input, or a new one for this workflow run), the
``baseline-run-id`` input, and which input to blame when the API cannot find an ID.
"""

from __future__ import annotations

from typing import Any

from scorecard_core.client import ApiError
from scorecard_core.scorecard_api import ScorecardApi

from .config import ConfigError, RunnerConfig

# The API's body fields, named as the inputs that set them.
INPUT_OF_FIELD = {"metricIds": "metric-ids", "testsetId": "testset-id", "systemVersionId": "system-version-id"}


class RunnerApi(ScorecardApi):
    def start_run(self, config: RunnerConfig) -> dict[str, Any]:
        """Fill the given run (a kickoff), or create one for this workflow run."""
        if config.run_id:
            try:
                run = self.get_run(config.run_id)
            except ApiError as exc:
                if exc.status == 404:
                    raise ConfigError("run-id", f"names run {config.run_id}, which does not exist") from None
                raise
            if config.git.repo:
                run = self.update_git(str(run["id"]), config.git.wire()) or run
            return run
        try:
            return self.create_run(
                config.project_id,
                testset_id=config.testset_id,
                metric_ids=config.metric_ids,
                system_version_id=config.system_version_id,
                source="github",
                git=config.git.wire(),
            )
        except ApiError as exc:
            if exc.status == 404:
                field = str((exc.details or {}).get("field") or "project-id")
                name = INPUT_OF_FIELD.get(field, "project-id")
                raise ConfigError(name, f"was not found by the API: {exc.message}") from None
            raise

    def system_config(self, version_id: str | None) -> dict[str, Any] | None:
        """The ``system-version-id`` input's config, if the input is given."""
        if not version_id:
            return None
        try:
            return super().system_config(version_id)
        except ApiError as exc:
            if exc.status == 404:
                raise ConfigError(
                    "system-version-id", f"names system version {version_id}, which does not exist"
                ) from None
            raise

    def baseline_for(self, config: RunnerConfig, run: dict[str, Any]) -> dict[str, Any] | None:
        """The ``baseline-run-id`` input's run, else the base branch's latest finished run of the
        same testset (our server only)."""
        if config.baseline_run_id:
            return self.get_run(config.baseline_run_id)
        if not (config.git.base_ref and config.testset_id):
            return None
        return self.baseline_run(config.project_id, config.testset_id, config.git.base_ref, excluding=str(run["id"]))
