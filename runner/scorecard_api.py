"""What the runner asks of a Scorecard API, hosted or ours: the run, its testcases, its records.

Our server is detected by its OpenAPI document; against it the runner uses our extensions
(batch uploads with idempotency keys, git context on runs, baseline lookups). Against hosted
Scorecard it sticks to the public API.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from scorecard_core.client import ApiError, ScorecardClient

from .config import ConfigError, RunnerConfig

BATCH_PATH = "/runs/{runId}/records/batch"


class ScorecardApi:
    def __init__(self, client: ScorecardClient):
        self.client = client
        self.extended = self._detect_extensions()

    def _detect_extensions(self) -> bool:
        try:
            document = self.client.get("/openapi.json")
        except ApiError:
            return False
        return isinstance(document, dict) and BATCH_PATH in (document.get("paths") or {})

    def start_run(self, config: RunnerConfig) -> dict[str, Any]:
        """Fill the given run (a kickoff), or create one for this workflow run."""
        if config.run_id:
            try:
                run = self.client.get(f"/runs/{config.run_id}")
            except ApiError as exc:
                if exc.status == 404:
                    raise ConfigError("run-id", f"names run {config.run_id}, which does not exist") from None
                raise
            if self.extended and config.git.repo:
                run = self.client.patch(f"/runs/{run['id']}", {"git": config.git.wire()})
            return run
        body: dict[str, Any] = {"metricIds": config.metric_ids, "testsetId": config.testset_id}
        if config.system_version_id:
            body["systemVersionId"] = config.system_version_id
        if self.extended:
            body.update(source="github", git=config.git.wire())
        try:
            return self.client.post(f"/projects/{config.project_id}/runs", body)
        except ApiError as exc:
            if exc.status == 404:
                field = str((exc.details or {}).get("field") or "project-id")
                name = {"metricIds": "metric-ids", "testsetId": "testset-id"}.get(field, "project-id")
                raise ConfigError(name, f"was not found by the API: {exc.message}") from None
            raise

    def testcases(self, testset_id: str) -> list[dict[str, Any]]:
        return list(self.client.paginate(f"/testsets/{testset_id}/testcases"))

    def records(self, run_id: str) -> list[dict[str, Any]]:
        return list(self.client.paginate(f"/runs/{run_id}/records"))

    def recorded_trials(self, run_id: str) -> Counter[str]:
        """How many records each testcase already has: a resumed run skips those trials."""
        return Counter(str(r["testcaseId"]) for r in self.records(run_id) if r.get("testcaseId"))

    def system_config(self, version_id: str | None) -> dict[str, Any] | None:
        if not version_id:
            return None
        try:
            return self.client.get(f"/systems/versions/{version_id}").get("config")
        except ApiError as exc:
            if exc.status == 404:
                raise ConfigError(
                    "system-version-id", f"names system version {version_id}, which does not exist"
                ) from None
            raise

    def metrics(self, metric_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {str(m): self.client.get(f"/metrics/{m}") for m in metric_ids}

    def end_execution(self, run_id: str) -> None:
        if self.extended:
            self.client.patch(f"/runs/{run_id}", {"status": "awaiting_scoring"})

    def baseline_run(self, config: RunnerConfig, run: dict[str, Any]) -> dict[str, Any] | None:
        """The base branch's latest finished run of the same testset (our server), or the
        ``baseline-run-id`` input."""
        if config.baseline_run_id:
            return self.client.get(f"/runs/{config.baseline_run_id}")
        if not (self.extended and config.git.base_ref and config.testset_id):
            return None
        page = self.client.get(
            f"/projects/{config.project_id}/runs",
            limit=5,
            testsetId=config.testset_id,
            gitRef=config.git.base_ref,
            status="completed,error",
        )
        return next((r for r in page.get("data", []) if str(r["id"]) != str(run["id"])), None)
