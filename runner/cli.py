"""``python -m runner``: the Action's engine, end to end.

prepare (config, run, testcases) -> run the system and upload records -> wait for scores ->
report (outputs, job summary, annotations, PR comment) -> pass or fail the check.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from scorecard_core import links
from scorecard_core.client import ScorecardClient
from scorecard_core.errors import ScorecardError
from scorecard_core.gate import GatePolicy, GateResult, parse_policy
from scorecard_core.markdown import ReportContext, render, report_context, sticky_marker
from scorecard_core.prices import ModelPrice, parse_prices

from . import workflow
from .config import RunnerConfig, load
from .execute import Work, execute, pending_work
from .progress import Progress
from .scorecard_api import RunnerApi
from .shards import find_gaps, tally_records
from .systems import make_system
from .upload import Uploader
from .waiting import ScoresTimedOut, wait_for_scores

MAX_ANNOTATIONS = 10
COMMENT_LIMIT = 65_536
SUMMARY_LIMIT = 1_000_000  # GitHub keeps at most 1 MiB of one step's job summary


def run_url(config: RunnerConfig, run: dict[str, Any]) -> str:
    """Where the run is shown, on Scorecard's app or our server."""
    return links.run_url(links.app_url_of(config.api_url), config.project_id, run["id"])


def _event_description(config: RunnerConfig) -> str:
    if config.git.pr_number:
        return f"pull request #{config.git.pr_number}"
    return (config.git.event_name or "manual run").replace("_", " ")


def plan_work(config: RunnerConfig, api: RunnerApi, run: dict[str, Any]) -> tuple[Mapping[str, int], dict | None]:
    """How many trials of each testcase the run already has (a resumed run skips them), and the
    system version's config to run with."""
    recorded = api.recorded_trials(run["id"]) if config.run_id else {}
    return recorded, api.system_config(config.system_version_id)


async def stream_work(
    config: RunnerConfig, api: RunnerApi, recorded: Mapping[str, int], progress: Progress
) -> AsyncIterator[Work]:
    """What is left to run, a page of testcases at a time: the calls start with the first page,
    and each next page is fetched in a thread while they go on."""
    pages = api.testcase_pages(config.testset_id)
    shard = config.shard
    testcases = skipped = 0
    while (page := await asyncio.to_thread(next, pages, None)) is not None:
        if shard is not None:
            page = [testcase for testcase in page if shard.holds(str(testcase["id"]))]
        work = list(pending_work(page, config.trials, recorded))
        testcases += len(page)
        skipped += len(page) * config.trials - len(work)
        progress.grow(len(work))
        for item in work:
            yield item
    progress.counted()
    print(
        f"{testcases} testcases{f' (shard {shard})' if shard else ''} x {config.trials} trial(s); "
        f"{skipped} already recorded, {progress.total} to run "
        f"with concurrency {config.concurrency}"
    )


def run_system(config: RunnerConfig, api: RunnerApi, run: dict[str, Any]) -> tuple[Progress, Uploader]:
    """Run the system over what is left; the progress, and the uploader, which knows the IDs of
    records whose call failed when the API cannot store a record's error (hosted Scorecard) and
    each call's duration and usage, which hosted Scorecard does not keep."""
    system = make_system(
        config.system, working_directory=config.working_directory, python=config.python, concurrency=config.concurrency
    )

    async def go() -> tuple[Progress, Uploader]:
        starting = asyncio.create_task(system.start())  # the user's imports overlap our fetching
        try:
            recorded, system_config = await asyncio.to_thread(plan_work, config, api, run)
            await starting
            progress = Progress(None, "records")  # its total grows as the testcase pages arrive
            uploader = Uploader(api.client, str(run["id"]), batches=api.extended)
            began = time.monotonic()
            work = stream_work(config, api, recorded, progress)
            await execute(system, work, system_config, config.concurrency, config.timeout, uploader, progress)
            print(f"Ran {progress.total} system calls and uploaded their records in {time.monotonic() - began:.3f} s")
            return progress, uploader
        finally:
            await asyncio.gather(starting, return_exceptions=True)  # a failed fetch still lets it finish
            await system.close()

    return asyncio.run(go())


def build_report(
    config: RunnerConfig,
    api: RunnerApi,
    run: dict[str, Any],
    url: str,
    policy: GatePolicy,
    failed_record_ids: Collection[str] = (),
    call_facts: Mapping[str, dict[str, Any]] | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
    gaps: Sequence[str] = (),
) -> tuple[ReportContext, dict]:
    """The report and the results file; ``gaps`` (what a sharded run lacks) fail the check too."""
    baseline = api.baseline_for(config, run)

    def completed(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The records as they stream in (100k would not fit in memory as JSON), with what
        hosted Scorecard does not keep."""
        for record in records:
            record_id = str(record["id"])
            if record_id in failed_record_ids and not record.get("error"):
                # Hosted Scorecard: its judge scored our error text; it is a failed call.
                record["error"] = str((record.get("outputs") or {}).get("error") or "the system call failed")
            for name, value in (call_facts or {}).get(record_id, {}).items():
                if value is not None and record.get(name) is None:  # what hosted Scorecard does not keep
                    record[name] = value
            yield record

    context = report_context(
        run,
        api.metrics([str(m) for m in run.get("metricIds", [])]),
        completed(api.each_record(str(run["id"]))),
        policy,
        config.testset_id,
        baseline=(baseline, api.each_record(str(baseline["id"]))) if baseline is not None else None,
        run_url=url,
        actions_url=config.git.actions_run_url,
        commit_sha=config.git.sha,
        event=_event_description(config),
        prices=prices,
    )
    if gaps:  # named first: nothing else in the report can be trusted to cover the whole testset
        gate = gate_of(context)
        context.gate = replace(gate, passed=False, failures=[*gaps, *gate.failures], incomplete=list(gaps))
    gate = gate_of(context)
    results = {
        "runId": str(run["id"]),
        "runUrl": url,
        "status": run["status"],
        "passed": gate.passed,
        "failures": gate.failures,
        "regressions": gate.regressions,
        "summary": context.summary.as_dict(),
        "comparison": context.comparison,
        "usage": context.usage.as_dict() if context.usage else None,
    }
    return context, results


def gate_policy(config: RunnerConfig) -> GatePolicy:
    return parse_policy(
        config.fail_under, config.fail_under_mode, config.fail_on_regression, config.regression_margin, config.alpha
    )


def gate_of(context: ReportContext) -> GateResult:
    """The runner always passes thresholds (perhaps none), so its reports are always gated."""
    if context.gate is None:
        raise AssertionError("report_context gates every report")
    return context.gate


def publish(config: RunnerConfig, context: ReportContext, results: dict) -> None:
    gate = gate_of(context)
    workflow.append_summary(render(context, max_chars=SUMMARY_LIMIT))
    results_path = (
        Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / f"scorecard-results-{results['runId']}.json"
    )
    results_path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    pass_rate = context.summary.pass_rate
    workflow.set_output("pass-rate", "" if pass_rate is None else f"{pass_rate:.4f}")
    workflow.set_output("passed", "true" if gate.passed else "false")
    workflow.set_output("results", str(results_path))
    for case in context.failing[:MAX_ANNOTATIONS]:
        workflow.warning(
            f"testcase {case.testcase_id or case.record_id}: {case.reason or 'failed'}",
            title=f"Scorecard: {case.metric_name} failed",
        )
    if config.comment and config.git.pr_number:
        from .comment import post_pr_comment  # PyGithub takes ~0.1 s to import: only for PR comments

        marker = context.marker or sticky_marker(config.testset_id)
        post_pr_comment(config, render(context, max_chars=COMMENT_LIMIT), marker)


def fill_run(config: RunnerConfig, api: RunnerApi, run: dict[str, Any]) -> tuple[Progress, Uploader]:
    """Run the system over what is left of the testset (or of this job's shard) and upload it."""
    with workflow.group(
        "Scorecard: run the system over the " + (f"shard {config.shard}" if config.shard else "testset")
    ):
        progress, uploader = run_system(config, api, run)
        if config.mode == "full":  # a shard leaves it to the report job: the other shards may still upload
            api.end_execution(str(run["id"]))
    if progress.failed:
        workflow.warning(
            f"{progress.failed} of {progress.total} system calls failed; they are recorded as errors "
            "and count as failing for every metric"
        )
    return progress, uploader


def uploaded_only(config: RunnerConfig, progress: Progress, url: str) -> int:
    """The end of a job that does not wait for scores (a shard, or `wait-for-scores: false`)."""
    if progress.total and not progress.ok:  # nothing to score: a check without scores must not pass
        workflow.error(f"No system call succeeded: all {progress.failed} failed; see {url}")
        return 1
    later = "the report job reports them" if config.mode == "shard" else f"scores will appear at {url}"
    workflow.notice(f"Records uploaded; {later}")
    return 0


def check_records(config: RunnerConfig, api: RunnerApi, run: dict[str, Any]) -> tuple[list[str], set[str]]:
    """The report job's look at what the shards uploaded: one sentence per failed shard, and on
    hosted Scorecard the records whose call failed (the shards' uploaders knew them, not this job).
    Then scoring starts, incomplete or not, so the report shows what is there."""
    with workflow.group("Scorecard: check every testcase has its records"):
        recorded, hosted_failed_calls = tally_records(api.each_record(str(run["id"])))
        gaps = find_gaps(api.testcase_pages(config.testset_id), recorded, config.trials)
        print(f"{len(gaps.testcase_ids) - len(gaps.missing)} of {len(gaps.testcase_ids)} testcases have their records")
        api.end_execution(str(run["id"]))
    return gaps.problems(config.shard_count), set() if api.extended else hosted_failed_calls


def main() -> int:
    try:
        config = load()
        # A typo fails now, not after the whole run.
        policy = gate_policy(config)
        prices = parse_prices(config.model_prices) if config.model_prices else None
        workflow.add_mask(config.api_key)
        api = RunnerApi(ScorecardClient(config.api_url, config.api_key))
        with workflow.group("Scorecard: prepare the run"):
            run = api.start_run(config)
            url = run_url(config, run)
            workflow.set_output("run-id", str(run["id"]))
            workflow.set_output("run-url", url)
            print(f"Run {run['id']}: {url}")
        if config.mode == "create":
            return 0
        gaps: list[str] = []
        failed_record_ids: Collection[str] = ()
        call_facts: Mapping[str, dict[str, Any]] = {}
        if config.mode == "report":
            gaps, failed_record_ids = check_records(config, api, run)
        else:
            progress, uploader = fill_run(config, api, run)
            if config.mode == "shard" or not config.wait_for_scores:
                return uploaded_only(config, progress, url)
            failed_record_ids, call_facts = uploader.failed_record_ids, uploader.call_facts
        with workflow.group("Scorecard: wait for scores"), workflow.untrusted_output():
            run = wait_for_scores(api, str(run["id"]), config.score_timeout)
        context, results = build_report(config, api, run, url, policy, failed_record_ids, call_facts, prices, gaps)
        publish(config, context, results)
    except ScoresTimedOut as exc:
        workflow.error(f"{exc}; raise the `score-timeout` input or check the run's scoring")
        return 1
    except ScorecardError as exc:
        workflow.error(exc.message)
        return 1
    return verdict(gate_of(context), gaps, url)


def verdict(gate: GateResult, gaps: Collection[str], url: str) -> int:
    """The check's outcome, with an annotation per reason it failed."""
    for note in gate.notes:
        workflow.notice(note)
    if not gate.passed:
        for failure in gate.failures:
            if failure in gaps:
                title = "Scorecard: incomplete run"
            elif failure in gate.regressions:
                title = "Scorecard: regression"
            else:
                title = "Scorecard threshold missed"
            workflow.error(failure, title=title)
        return 1
    print(f"Scorecard: {'all thresholds met' if gate.failures == [] else 'passed'} — {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
