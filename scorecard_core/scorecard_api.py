"""Everything our callers ask of a remote Scorecard API, hosted or ours, in one place.

The Action's runner and the standalone webhook service both talk to Scorecard over REST. Our
server is detected by its OpenAPI document: against it we use our extensions (git context and
a source on runs, ending execution, baseline lookups by git ref); against hosted Scorecard only
the public v2 API, and the extension calls do nothing. Everything speaks v2 wire JSON and
raises the client's :class:`~scorecard_core.client.ApiError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import cached_property
from itertools import islice
from typing import Any

from .client import ApiError, ScorecardClient
from .run_status import FINISHED, RunStatus

# A path only our server documents: its presence is how we know the extensions are there.
EXTENSION_PATH = "/runs/{runId}/records/batch"
PAGE_SIZE = 100


class ScorecardApi:
    def __init__(self, client: ScorecardClient):
        self.client = client

    @cached_property
    def extended(self) -> bool:
        """Whether the API is our server's, with our extensions (asked once, on first use)."""
        try:
            document = self.client.get("/openapi.json")
        except ApiError:
            return False
        return isinstance(document, dict) and EXTENSION_PATH in (document.get("paths") or {})

    def create_run(
        self,
        project_id: str,
        *,
        testset_id: str | None,
        metric_ids: list[str],
        system_version_id: str | None = None,
        source: str | None = None,
        git: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A new run; ``source`` and ``git`` (wire JSON) are kept only by our server."""
        body: dict[str, Any] = {"metricIds": metric_ids, "testsetId": testset_id}
        if system_version_id:
            body["systemVersionId"] = system_version_id
        if self.extended:
            if source is not None:
                body["source"] = source
            if git is not None:
                body["git"] = git
        return self.client.post(f"/projects/{project_id}/runs", body)

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self.client.get(f"/runs/{run_id}")

    def update_git(self, run_id: str, git: dict[str, Any]) -> dict[str, Any] | None:
        """Merge ``git`` into the run's git context; the updated run, or None on hosted Scorecard
        (which keeps no git context)."""
        if not self.extended:
            return None
        return self.client.patch(f"/runs/{run_id}", {"git": git})

    def end_execution(self, run_id: str) -> None:
        """Every record is in: our server starts scoring now (hosted Scorecard scores as records come)."""
        if self.extended:
            self.client.patch(f"/runs/{run_id}", {"status": RunStatus.AWAITING_SCORING.value})

    def testcase_pages(self, testset_id: str, page_size: int = PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
        """The testset's testcases, a page at a time: each page is fetched when the one before is used."""
        testcases = self.client.paginate(f"/testsets/{testset_id}/testcases", limit=page_size)
        while page := list(islice(testcases, page_size)):
            yield page

    def each_record(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The run's records with their scores, a page fetched as the one before is used up: a run
        of 100k records never sits in memory whole."""
        return self.client.paginate(f"/runs/{run_id}/records", limit=PAGE_SIZE)

    def recorded_trials(self, run_id: str) -> Counter[str]:
        """How many records each testcase already has: a resumed run skips those trials."""
        return Counter(str(r["testcaseId"]) for r in self.each_record(run_id) if r.get("testcaseId"))

    def system_config(self, version_id: str) -> dict[str, Any] | None:
        """The config of system version ``version_id``."""
        return self.client.get(f"/systems/versions/{version_id}").get("config")

    def metrics(self, metric_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The metrics by ID."""
        return {str(m): self.client.get(f"/metrics/{m}") for m in metric_ids}

    def report_data(self, run_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]], Iterator[dict[str, Any]]]:
        """The run, its metrics by ID, and its records with scores as they stream in: what the
        report renderer needs (it reads the records once)."""
        run = self.get_run(run_id)
        return run, self.metrics([str(m) for m in run.get("metricIds", [])]), self.each_record(run_id)

    def baseline_run(
        self, project_id: str, testset_id: str, git_ref: str, *, excluding: str | None = None
    ) -> dict[str, Any] | None:
        """The latest finished run of the testset on ``git_ref`` (e.g. a PR's base branch), other
        than run ``excluding``; None on hosted Scorecard, which cannot look runs up by git ref."""
        if not self.extended:
            return None
        page = self.client.get(
            f"/projects/{project_id}/runs",
            limit=5,
            testsetId=testset_id,
            gitRef=git_ref,
            status=",".join(sorted(FINISHED)),
        )
        return next((r for r in page.get("data", []) if str(r["id"]) != str(excluding)), None)

    def recent_runs(self, project_id: str, count: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """The project's ``count`` newest runs (the v2 API cannot search them by git context)."""
        runs = self.client.paginate(f"/projects/{project_id}/runs", limit=min(count, PAGE_SIZE))
        return list(islice(runs, count))
