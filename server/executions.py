"""Runs the server executes itself.

A kickoff with target ``scorecard`` (a prompt system version) or ``endpoint`` (an HTTP endpoint
version) calls the system here instead of dispatching a GitHub workflow. Each run executes on a
worker thread, in its own asyncio loop, through the Action's own ``runner.execute``; records go to
the database in batches through ``scorecard_core.runs.add_records`` with the batch endpoint's
idempotency keys (testcase + trial), so a run resumed after a restart stores each (testcase,
trial) once. The database is the only state: a restarted server picks up every run still
executing, and a cancel ends execution so what was recorded gets scored. One process executes a
run at a time (execution_leases.py). With workers on a queue (server/workers), ``start`` sends
the run to them instead of executing it here.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

import httpx
from flask import Flask
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from runner.execute import execute, pending_work
from runner.progress import Progress
from runner.systems import SystemCallFailed, check_system_config, system_from_config
from runner.systems.endpoint import check_destination
from runner.upload import BatchingSink, RecordItem
from scorecard_core import wire
from scorecard_core.errors import Conflict, InvalidField, NotFound, ScorecardError
from scorecard_core.jobs import ThreadJobs
from scorecard_core.models import Record, Run, System, SystemVersion, Testcase, Testset, utcnow
from scorecard_core.periodic import Periodic
from scorecard_core.run_status import EXECUTING
from scorecard_core.runs import RecordInput, add_records, end_execution, trial_key
from scorecard_core.scoring.lifecycle import fail_run
from scorecard_core.settings import Settings

from . import scoring
from .execution_leases import ExecutionLeases, lapsed
from .settings import settings_of
from .workers.queue import EXECUTE, TaskQueue

log = logging.getLogger(__name__)

EXTENSION = "scorecard.executions"
# How long a kickoff waits to learn whether an endpoint accepts connections.
REACH_TIMEOUT_SECONDS = 3.0
# Runs the server fills itself: their source, and the kinds of system version it can call.
SERVER_SOURCES = ("kickoff", "playground")
KIND_OF_TARGET = {"scorecard": "prompt", "endpoint": "endpoint"}
DEFAULT_CONCURRENCY = 8  # a resumed run's calls at once (a kickoff names its own)
CALL_TIMEOUT_SECONDS = 300.0  # the Action's default `timeout`
CANCEL_WAIT_SECONDS = 10.0  # how long a cancel waits for in-flight records to be stored


class _Execution:
    """One run's execution, as far as cancelling it goes: a flag, and the task to cancel once
    its loop is running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cancelled = False
        self.stopped = threading.Event()
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, task: asyncio.Task) -> bool:
        """Called on the execution's loop; False when it was cancelled before it started."""
        with self._lock:
            if self.cancelled:
                return False
            self._task, self._loop = task, task.get_loop()
            return True

    def cancel(self) -> bool:
        """True when it was calling the system (a queued one just never starts)."""
        with self._lock:
            self.cancelled = True
            if self._task is None or self._loop is None:
                return False
            self._loop.call_soon_threadsafe(self._task.cancel)
            return True


@dataclass(frozen=True)
class _Plan:
    config: dict[str, Any]
    testcases: list[dict[str, Any]]
    trials: int
    stored_keys: frozenset[str]

    def work(self) -> list:
        """Every (testcase, trial) without a stored record: exactly one record each in the end."""
        every = pending_work(self.testcases, self.trials, {})
        return [w for w in every if trial_key(w.testcase["id"], w.trial) not in self.stored_keys]


class RunRecords(BatchingSink):
    """The records of one run, written to the database in batches as the Action's uploader
    sends them to the batch endpoint; each write wakes the scoring engine."""

    def __init__(self, executions: Executions, run_id: int):
        super().__init__()
        self._executions = executions
        self._run_id = run_id

    def write_batch(self, batch: list[RecordItem]) -> None:
        items = [
            RecordInput(
                inputs=item.inputs,
                expected=item.expected,
                outputs=item.outputs,
                testcase_id=int(item.testcase_id),
                idempotency_key=trial_key(item.testcase_id, item.trial),
                error=item.error,
                metadata=item.metadata,
                duration_ms=item.duration_ms,
            )
            for item in batch
        ]
        with self._executions.session() as session:
            add_records(session, self._run_id, items)
            self._executions.commit(session)


class _LoggedProgress(Progress):
    """Progress lines go to the server's log rather than stdout."""

    def __init__(self, total: int, run_id: int):
        super().__init__(total, str(run_id))

    def report(self) -> None:
        log.info("run %s: %d of %d calls done, %d failed", self.label, self.done, self.total, self.failed)


class Executions:
    """At most ``execution_concurrency`` runs execute at once in this process; more wait their
    turn. With ``queue``, runs are sent to the workers instead."""

    def __init__(self, app: Flask, engine: Engine, settings: Settings, queue: TaskQueue | None = None):
        self._app = app
        self._engine = engine
        self._settings = settings
        self._queue = queue
        self._jobs = ThreadJobs(settings.execution_concurrency, name="scorecard-execution", backpressure=False)
        self._lock = threading.Lock()
        self._running: dict[int, _Execution] = {}
        self._stopping = False  # the server is stopping: runs stay executing, to resume at start
        self._leases = ExecutionLeases(engine, settings.scoring_lease_seconds, self._held, self._cancel_here)
        self._resumes = Periodic("scorecard-execution-resume", settings.scoring_lease_seconds, self.resume)

    # -- the database ------------------------------------------------------------------------------

    def session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    def commit(self, session: Session) -> None:
        """Commit, then tell scoring, as a request that stored records does."""
        session.commit()
        with self._app.app_context():
            scoring.stored(session)

    # -- starting, resuming, cancelling --------------------------------------------------------

    def start(self, run_id: int, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        if self._queue is not None:  # a lost message is found by the workers' sweep (resume)
            self._queue.nudge(EXECUTE, run_id, concurrency)
            return
        execution = self._register(run_id)
        if execution is not None:
            self._jobs.submit(self._execute, run_id, concurrency, execution)

    def execute_here(self, run_id: int, concurrency: int) -> None:
        """Execute the run on the calling thread (a worker's task), unless it executes here already."""
        execution = self._register(run_id)
        if execution is not None:
            self._execute(run_id, concurrency, execution)

    def _register(self, run_id: int) -> _Execution | None:
        with self._lock:
            if run_id in self._running:
                return None
            execution = self._running[run_id] = _Execution()
            return execution

    def _held(self) -> list[int]:
        with self._lock:
            return list(self._running)

    def _cancel_here(self, run_id: int) -> None:
        """The run stopped executing through another process (a cancel): stop calling its system."""
        with self._lock:
            execution = self._running.get(run_id)
        if execution is not None:
            log.info("run %s no longer executes: stopping its calls", run_id)
            execution.cancel()

    def resume(self) -> None:
        """Start every server run still executing that no process holds (the one executing it
        died or stopped under it, or its message to the workers was lost)."""
        with self.session() as session:
            candidates = session.exec(
                select(Run).where(col(Run.source).in_(SERVER_SOURCES), col(Run.status).in_(list(EXECUTING)), lapsed())
            ).all()
            resumed = [run.id for run in candidates if run.id is not None and is_server_run(session, run)]
        for run_id in resumed:
            log.info("resuming the execution of run %s", run_id)
            self.start(run_id)

    def cancel(self, run_id: int) -> None:
        """Stop starting calls for the run and wait a little for what is in flight to be stored."""
        with self._lock:
            execution = self._running.get(run_id)
        if execution is not None and execution.cancel():
            execution.stopped.wait(CANCEL_WAIT_SECONDS)

    def keep_resuming(self) -> None:
        """Resume now, and again each lease length: a run whose process was killed resumes here
        once its lease lapses (where there are workers, their sweep does this)."""
        self.resume()
        self._resumes.start()

    def stop(self) -> None:
        """Stop every execution, keeping its records; the runs resume when the server starts again."""
        self._leases.stop()
        self._resumes.stop()
        with self._lock:
            self._stopping = True
            executions = list(self._running.values())
        for execution in executions:
            execution.cancel()
        self._jobs.shutdown()

    # -- one run, on a worker thread -------------------------------------------------------------

    def _execute(self, run_id: int, concurrency: int, execution: _Execution) -> None:
        taken = threading.Event()
        try:
            plan = self._plan(run_id, taken)
            if plan is not None and not execution.cancelled:
                asyncio.run(self._call_system(run_id, plan, concurrency, execution))
                if not self._stopping:
                    self._end(run_id, None)
        except ScorecardError as exc:  # a config or system that cannot run (SystemStartError among them)
            log.warning("run %s cannot execute: %s", run_id, exc)
            self._end(run_id, str(exc))
        finally:
            execution.stopped.set()
            with self._lock:
                self._running.pop(run_id, None)
            if taken.is_set():
                self._leases.release(run_id)

    def _plan(self, run_id: int, taken: threading.Event) -> _Plan | None:
        """What is left to do, or None when the run no longer executes here (or executes in
        another process); ``taken`` is set once this process holds the run's lease."""
        with self.session() as session:
            run = session.get(Run, run_id)
            if run is None or run.status not in EXECUTING or not is_server_run(session, run):
                return None
            if not self._leases.take(session, run_id):
                log.info("run %s is executing in another process", run_id)
                return None
            taken.set()
            version = session.get_one(SystemVersion, run.system_version_id)
            testset = session.get(Testset, run.testset_id) if run.testset_id is not None else None
            if testset is None:
                raise ScorecardError(f"run {run_id} has no testset to execute")
            mapping = testset.field_mapping
            rows = session.exec(select(Testcase).where(Testcase.testset_id == testset.id).order_by(Testcase.id)).all()
            testcases = [wire.testcase(tc, mapping) for tc in rows]
            keys = session.exec(
                select(Record.idempotency_key).where(Record.run_id == run_id, col(Record.idempotency_key).is_not(None))
            ).all()
            # A kickoff expects one record per testcase and trial.
            trials = max(1, (run.num_expected_records or 0) // max(1, len(testcases)))
            return _Plan(version.config, testcases, trials, frozenset(k for k in keys if k))

    async def _call_system(self, run_id: int, plan: _Plan, concurrency: int, execution: _Execution) -> None:
        task = asyncio.current_task()
        assert task is not None
        if not execution.attach(task):
            return
        work = plan.work()
        system = system_from_config(
            plan.config,
            concurrency=concurrency,
            openai_base_url=self._settings.openai_base_url,
            openai_api_key=self._settings.openai_api_key,
            allow_link_local=self._settings.endpoint_allow_link_local,
            all_inputs=[tc["inputs"] for tc in plan.testcases],
        )
        records = RunRecords(self, run_id)
        await system.start()
        try:
            await execute(
                system,
                work,
                None,
                concurrency,
                CALL_TIMEOUT_SECONDS,
                records,
                _LoggedProgress(len(work), run_id),
                warn=lambda message, title: log.warning("run %s: %s: %s", run_id, title, message),
            )
        except asyncio.CancelledError:
            log.info("run %s cancelled: storing the records made so far", run_id)
            await records.close()
        finally:
            await system.close()

    def _end(self, run_id: int, failure: str | None) -> None:
        """Execution is over: what was recorded is scored (``failure``: the run could not run)."""
        with self.session() as session:
            run = session.get(Run, run_id)
            if run is None or run.status not in EXECUTING:
                return
            if failure is None:
                end_execution(session, run)
            else:
                fail_run(session, run, failure)
            self.commit(session)


def is_server_run(session: Session, run: Run) -> bool:
    """A run this server fills itself: a kickoff or playground run of a prompt or endpoint version."""
    if run.source not in SERVER_SOURCES or run.system_version_id is None:
        return False
    version = session.get(SystemVersion, run.system_version_id)
    return version is not None and (version.config or {}).get("kind") in KIND_OF_TARGET.values()


def check_version(
    session: Session, project_id: int, version_id: str, target: str, *, allow_link_local: bool = False
) -> None:
    """The version can run with ``target``: the project's, of the target's kind, its config
    complete (an InvalidField names the config's bad field), and an endpoint's URL reachable."""
    version = session.get(SystemVersion, version_id)
    system = session.get(System, version.system_id) if version is not None else None
    if version is None or system is None or system.project_id != project_id:
        raise NotFound.of("system version", version_id, field="systemVersionId")
    expected = KIND_OF_TARGET[target]
    kind = version.config.get("kind") if isinstance(version.config, dict) else None
    if kind is None:
        raise InvalidField(
            "systemVersionId",
            f'has no `kind`: target `{target}` runs versions whose config says `"kind": "{expected}"`',
        )
    if kind != expected:
        raise InvalidField("systemVersionId", f"is a `{kind}` system; target `{target}` runs `{expected}` systems")
    check_system_config(version.config)
    if kind == "endpoint":
        check_reachable(version.config["url"], allow_link_local=allow_link_local)


def check_reachable(url: str, *, allow_link_local: bool) -> None:
    """Before a run is made: the endpoint's host resolves to an address we may call and accepts a
    connection (every call of a run at an address nothing answers would only fail)."""
    try:
        addresses = asyncio.run(check_destination(url, allow_link_local=allow_link_local))
    except SystemCallFailed as exc:
        raise InvalidField("config.url", f"cannot be called: {exc.message}") from None
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((str(addresses[0]), port), timeout=REACH_TIMEOUT_SECONDS).close()
    except OSError as exc:
        raise InvalidField(
            "config.url", f"cannot be reached: {parsed.host} port {port} accepts no connection ({exc}); is it up?"
        ) from None


def cancel_run(executions: Executions, session: Session, run: Run, by: str) -> Run:
    """Stop a server run's calls and end its execution; a finished or another kind of run is a
    Conflict saying why."""
    if not is_server_run(session, run):
        raise Conflict(
            f"run {run.id} is not executed by this server (source `{run.source}`): only kickoffs with "
            "target `scorecard` or `endpoint` can be cancelled",
            {"runId": str(run.id)},
        )
    if run.status not in EXECUTING:
        raise Conflict(f"run {run.id} is `{run.status}`: its execution has already ended", {"runId": str(run.id)})
    run_id = run.id
    assert run_id is not None
    # End the read transaction first: on SQLite, writing after the execution's own writes would
    # otherwise fail on a stale snapshot.
    session.commit()
    executions.cancel(run_id)
    run = session.get_one(Run, run_id, populate_existing=True)
    cancelled = f"Cancelled by {by} at {utcnow().isoformat(timespec='seconds')}."
    run.notes = f"{run.notes}\n{cancelled}" if run.notes else cancelled
    end_execution(session, run)
    return run


def init_app(app: Flask, engine: Engine, queue: TaskQueue | None) -> None:
    settings = settings_of(app)
    executions = app.extensions[EXTENSION] = Executions(app, engine, settings, queue)
    # A real server (not a one-off app: CLI, tests of other parts), with no workers to sweep.
    if settings.scoring_enabled and queue is None:
        executions.keep_resuming()


def executions_of(app: Flask) -> Executions:
    return app.extensions[EXTENSION]


def stop(app: Flask) -> None:
    executions = app.extensions.get(EXTENSION)
    if executions is not None:
        executions.stop()
