"""The runner calling real user systems: a Python worker in the user's interpreter, commands, HTTP.

The sample systems live in `sample_systems/` as a user's repository would hold them; the user's
Python here is the interpreter running the tests.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runner.systems import System, SystemStartError, make_system
from runner.systems.python_worker import WORKER_SCRIPT

SAMPLES = Path(__file__).parent / "sample_systems"
ANSWER_COMMAND = f"cmd:{sys.executable} commands/answer.py"


def python_system(spec: str, concurrency: int = 4, python: str = sys.executable) -> System:
    return make_system(spec, working_directory=SAMPLES, python=python, concurrency=concurrency)


@asynccontextmanager
async def running(system: System) -> AsyncIterator[System]:
    await system.start()
    try:
        yield system
    finally:
        await system.close()


def start_error(system: System) -> str:
    async def scenario() -> None:
        async with running(system):
            pass

    with pytest.raises(SystemStartError) as raised:
        asyncio.run(scenario())
    return str(raised.value)


def timed_batch(system: System, inputs: dict, calls: int) -> tuple[float, list]:
    """Seconds for `calls` concurrent calls once the system is up, and their results."""

    async def scenario() -> tuple[float, list]:
        async with running(system):
            started = time.perf_counter()
            results = await asyncio.gather(*(system.call(inputs, None, 5) for _ in range(calls)))
            return time.perf_counter() - started, results

    return asyncio.run(scenario())


# --- Python functions in the user's interpreter ---------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("agents.well_behaved:run_system", {"answer": "HI THERE", "systemConfig": {"model": "m1"}}),
        ("agents.well_behaved:run_system_async", {"answer": "hi there", "systemConfig": {"model": "m1"}}),
        ("agents.well_behaved:inputs_only", {"answer": "erehT iH"}),
        ("agents.well_behaved:agent.answer", {"answer": "hello Hi There"}),
        ("agents.well_behaved:plain_value", {"output": "just a string for Hi There"}),
    ],
)
def test_python_function_answers(spec, expected):
    async def scenario():
        async with running(python_system(spec)) as system:
            return await system.call({"question": "Hi There"}, {"model": "m1"}, 5)

    call = asyncio.run(scenario())
    assert call.error is None
    assert call.outputs == expected
    assert 0 < call.seconds < 5


def test_missing_system_config_arrives_as_none():
    async def scenario():
        async with running(python_system("agents.well_behaved:run_system")) as system:
            return await system.call({"question": "q"}, None, 5)

    assert asyncio.run(scenario()).outputs == {"answer": "Q", "systemConfig": None}


def test_user_code_runs_in_its_working_directory_without_our_modules_or_stdin():
    async def scenario():
        async with running(python_system("agents.well_behaved:environment")) as system:
            return await system.call({}, None, 5)

    outputs = asyncio.run(scenario()).outputs
    assert Path(outputs["cwd"]) == SAMPLES.resolve()
    assert Path(outputs["path"][0]) == SAMPLES.resolve()
    assert str(WORKER_SCRIPT.parent) not in outputs["path"]
    assert outputs["stdin"] == ""


def test_raised_exception_becomes_the_error_and_the_worker_keeps_serving():
    async def scenario():
        async with running(python_system("agents.misbehaving:raises")) as system:
            return await system.call({"fail": True}, None, 5), await system.call({}, None, 5)

    failed, next_call = asyncio.run(scenario())
    assert failed.outputs is None
    assert failed.error.startswith("ValueError: boom")
    assert "misbehaving.py" in failed.error and 'raise ValueError("boom")' in failed.error
    assert "concurrent/futures" not in failed.error
    assert next_call.outputs == {"ok": True}


@pytest.mark.parametrize("spec", ["agents.misbehaving:hangs", "agents.misbehaving:hangs_async"])
def test_hanging_call_times_out_and_later_calls_still_work(spec):
    async def scenario():
        async with running(python_system(spec)) as system:
            hung = await system.call({"hang": True}, None, 0.3)
            started = time.perf_counter()
            after = await system.call({}, None, 5)
            return hung, after, time.perf_counter() - started

    hung, after, after_seconds = asyncio.run(scenario())
    assert hung.outputs is None
    assert "did not answer within the 0.3 s timeout" in hung.error
    assert 0.3 <= hung.seconds < 1.5
    assert after.outputs == {"ok": True}
    assert after_seconds < 1


def test_hung_sync_calls_filling_every_thread_do_not_starve_later_calls():
    async def scenario():
        async with running(python_system("agents.misbehaving:hangs", concurrency=2)) as system:
            hung = await asyncio.gather(*(system.call({"hang": True}, None, 0.2) for _ in range(6)))
            return hung, await system.call({}, None, 2)

    hung, after = asyncio.run(scenario())
    assert all(call.error and "timeout" in call.error for call in hung)
    assert after.outputs == {"ok": True}


def test_value_that_is_not_json_is_an_error():
    async def scenario():
        async with running(python_system("agents.misbehaving:not_json")) as system:
            return await system.call({}, None, 5)

    call = asyncio.run(scenario())
    assert call.outputs is None
    assert "not JSON-serialisable" in call.error and "set" in call.error


def test_prints_become_logs_and_cannot_forge_answers(capsys):
    async def scenario():
        async with running(python_system("agents.well_behaved:noisy")) as system:
            return await asyncio.gather(*(system.call({"question": f"q{i}"}, None, 5) for i in range(5)))

    calls = asyncio.run(scenario())
    assert [call.outputs for call in calls] == [{"answer": f"q{i}"} for i in range(5)]
    logs = capsys.readouterr().err
    assert "[system] a user's print goes to the logs, not the protocol" in logs


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("agents.misbehaving:crashes", "worker process exited with code 3"),
        ("agents.misbehaving:segfaults", "worker process was killed by signal SIGSEGV"),
    ],
)
def test_crashed_worker_fails_its_call_with_the_reason_and_is_restarted(spec, reason):
    async def scenario():
        async with running(python_system(spec)) as system:
            before = await system.call({}, None, 5)
            crashed = await system.call({"crash": True}, None, 5)
            after = await system.call({}, None, 5)
            return before, crashed, after

    before, crashed, after = asyncio.run(scenario())
    assert crashed.outputs is None
    assert reason in crashed.error
    assert after.error is None and after.outputs["pid"] != before.outputs["pid"]


def test_crash_reports_the_last_stderr_lines():
    async def scenario():
        async with running(python_system("agents.misbehaving:crashes")) as system:
            return await system.call({"crash": True}, None, 5)

    assert asyncio.run(scenario()).error.endswith("stderr:\nabout to crash")


def test_a_crash_fails_only_the_crashing_call_and_the_calls_beside_it_are_retried(capsys):
    async def scenario():
        async with running(python_system("agents.misbehaving:crashes", concurrency=8)) as system:
            first_pid = (await system.call({}, None, 5)).outputs["pid"]
            in_flight = [system.call({"seconds": 0.5}, None, 5) for _ in range(3)]
            results = await asyncio.gather(system.call({"crash": True, "seconds": 0.2}, None, 5), *in_flight)
            return first_pid, results, await system.call({}, None, 5)

    first_pid, (crashed, *bystanders), after = asyncio.run(scenario())
    assert crashed.outputs is None and crashed.crashed
    assert crashed.error.startswith(
        "the system's worker process exited with code 3 while running this call alone: this call crashed it"
    )
    assert all(call.error is None and call.outputs["pid"] != first_pid for call in bystanders)
    assert not any(call.crashed for call in bystanders)
    assert after.error is None
    assert capsys.readouterr().err.count("retrying alone a call that was running when the worker died") == 4


def test_a_blocking_async_call_restarts_the_worker_and_spares_the_others():
    async def scenario():
        async with running(python_system("agents.misbehaving:blocks_async", concurrency=4)) as system:
            first_pid = (await system.call({}, None, 5)).outputs["pid"]
            blocked, bystander = await asyncio.gather(
                system.call({"block": True}, None, 0.3), system.call({"seconds": 0.1}, None, 5)
            )
            started = time.perf_counter()
            after = await system.call({}, None, 5)
            return first_pid, blocked, bystander, after, time.perf_counter() - started

    first_pid, blocked, bystander, after, after_seconds = asyncio.run(scenario())
    assert blocked.outputs is None and blocked.crashed
    assert "timed out and kept the worker's event loop blocked" in blocked.error
    assert "`await asyncio.sleep(...)`" in blocked.error
    assert blocked.seconds < 0.3 + 2.0 + 1.0
    assert bystander.error is None and bystander.outputs["pid"] != first_pid
    assert after.error is None and after_seconds < 1


def test_sys_exit_in_the_system_ends_the_worker_with_its_code():
    async def scenario():
        async with running(python_system("agents.misbehaving:exits")) as system:
            return await system.call({"exit": True}, None, 5), await system.call({}, None, 5)

    exited, after = asyncio.run(scenario())
    assert "exited with code 4" in exited.error
    assert after.error is None


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("agents.broken_import:run_system", "No module named 'a_dependency_nobody_installed'"),
        ("agents.not_there:run_system", "no module named 'agents.not_there'"),
        ("agents.well_behaved:nope", "'agents.well_behaved' has no attribute 'nope'"),
        ("agents.well_behaved:NOT_A_FUNCTION", "is a int, not a function"),
        ("agents.misbehaving:wants_three", "must accept (inputs) or (inputs, system_config)"),
    ],
)
def test_a_system_that_cannot_load_fails_start_with_the_reason(spec, reason):
    message = start_error(python_system(spec))
    assert f"The `system` input `{spec}`" in message
    assert reason in message
    assert "`python` input" in message


def test_missing_interpreter_names_the_python_input():
    message = start_error(python_system("agents.well_behaved:run_system", python="no-such-python-3"))
    assert "'no-such-python-3' could not be started" in message and "`python` input" in message


def test_interpreter_that_never_answers_fails_start():
    message = start_error(python_system("agents.well_behaved:run_system", python="false"))
    assert "exited with code 1 before answering" in message


@pytest.mark.parametrize("spec", ["agents.well_behaved:sleeps", "agents.well_behaved:sleeps_async"])
def test_python_calls_run_concurrently_up_to_the_limit(spec):
    seconds, calls = timed_batch(python_system(spec, concurrency=16), {"seconds": 0.1}, 16)
    assert all(call.outputs == {"slept": 0.1} for call in calls)
    assert seconds < 0.35


def test_concurrency_is_bounded():
    seconds, _ = timed_batch(python_system("agents.well_behaved:sleeps", concurrency=2), {"seconds": 0.1}, 4)
    assert seconds >= 0.2


# --- Commands -------------------------------------------------------------------------------------


def command_system(command: str = ANSWER_COMMAND, concurrency: int = 4) -> System:
    return make_system(command, working_directory=SAMPLES, concurrency=concurrency)


def test_command_reads_inputs_and_config_and_answers_json(capsys):
    async def scenario():
        async with running(command_system()) as system:
            return await system.call({"question": "hi"}, {"model": "m1"}, 10), await system.call(
                {"question": "yo"}, None, 10
            )

    with_config, without = asyncio.run(scenario())
    assert with_config.outputs == {"answer": "HI", "systemConfig": {"model": "m1"}}
    assert without.outputs == {"answer": "YO", "systemConfig": None}
    assert "[system] answering {'question': 'hi'}" in capsys.readouterr().err


def test_failing_command_reports_exit_code_and_stderr():
    async def scenario():
        async with running(command_system()) as system:
            return await system.call({"fail": True}, None, 10)

    call = asyncio.run(scenario())
    assert call.outputs is None
    assert "exited with code 2" in call.error and "the model refused" in call.error


def test_command_printing_something_other_than_json_is_an_error():
    async def scenario():
        async with running(command_system()) as system:
            return await system.call({"garbage": True}, None, 10)

    call = asyncio.run(scenario())
    assert "stdout is not JSON" in call.error and "this is not json" in call.error


def test_command_timeout_kills_its_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"

    async def scenario():
        async with running(command_system()) as system:
            return await system.call({"hang": True, "child_pid_file": str(pid_file)}, None, 1.5)

    call = asyncio.run(scenario())
    assert "did not answer within the 1.5 s timeout" in call.error
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while is_running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_running(child)


def is_running(pid: int) -> bool:
    """Alive and not a zombie (an orphan may wait a moment for its reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_commands_run_concurrently():
    seconds, calls = timed_batch(command_system("cmd:sleep 0.3 && echo '{\"ok\": true}'", 8), {}, 8)
    assert all(call.outputs == {"ok": True} for call in calls)
    assert seconds < 1.0


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("cmd:definitely-not-a-command --flag", "runs `definitely-not-a-command`, which is neither on PATH"),
        ("cmd:./missing_script.sh", "runs `./missing_script.sh`"),
        ("cmd:python 'unbalanced", "is not a valid command line"),
    ],
)
def test_command_that_cannot_run_fails_start(command, reason):
    message = start_error(command_system(command))
    assert f"The `system` input `{command}`" in message and reason in message


def test_command_starting_with_env_assignments_is_accepted():
    async def scenario():
        async with running(command_system("cmd:ANSWER=42 printenv ANSWER")) as system:
            return await system.call({}, None, 10)

    assert asyncio.run(scenario()).outputs == {"output": 42}  # not an object: wrapped


# --- HTTP endpoints -------------------------------------------------------------------------------


class SystemEndpoint(BaseHTTPRequestHandler):
    """A user's system served over HTTP: /echo, /slow, /broken, /text, /list."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        config = self.headers.get("X-Scorecard-System-Config")
        if self.path == "/slow":
            time.sleep(body.get("seconds", 1.0))
        answers = {
            "/echo": (200, {"received": body, "config": json.loads(config) if config else None}),
            "/slow": (200, {"slept": True}),
            "/broken": (500, "model overloaded, try later"),
            "/text": (200, "hello, not json"),
            "/list": (200, [1, 2]),
        }
        status, answer = answers[self.path]
        payload = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if isinstance(answer, str) else "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except BrokenPipeError:  # the runner gave up on a slow call
            pass

    def log_message(self, *args) -> None:
        pass


class EndpointServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the default backlog of 5 would stall 16 simultaneous connects


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = EndpointServer(("127.0.0.1", 0), SystemEndpoint)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def http_call(url: str, inputs: dict, config: dict | None = None, timeout: float = 5) -> object:
    async def scenario():
        async with running(make_system(url, working_directory=SAMPLES)) as system:
            return await system.call(inputs, config, timeout)

    return asyncio.run(scenario())


def test_http_posts_inputs_and_config(endpoint):
    call = http_call(f"{endpoint}/echo", {"question": "hi"}, {"model": "m1", "temperature": 0})
    assert call.outputs == {"received": {"question": "hi"}, "config": {"model": "m1", "temperature": 0}}
    assert http_call(f"{endpoint}/echo", {"question": "hi"}).outputs["config"] is None


def test_http_json_that_is_not_an_object_is_wrapped(endpoint):
    assert http_call(f"{endpoint}/list", {}).outputs == {"output": [1, 2]}


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("/broken", "answered HTTP 500: model overloaded, try later"), ("/text", "not JSON: hello, not json")],
)
def test_http_failures_carry_a_body_snippet(endpoint, path, fragment):
    call = http_call(f"{endpoint}{path}", {})
    assert call.outputs is None and fragment in call.error


def test_unreachable_endpoint_is_an_error_not_an_exception():
    with ThreadingHTTPServer(("127.0.0.1", 0), SystemEndpoint) as closed:
        port = closed.server_address[1]
    call = http_call(f"http://127.0.0.1:{port}/echo", {})
    assert "failed: ConnectError" in call.error


def test_slow_endpoint_times_out_and_next_calls_work(endpoint):
    async def scenario():
        async with running(make_system(f"{endpoint}/slow", working_directory=SAMPLES)) as system:
            slow = await system.call({"seconds": 2}, None, 0.3)
            quick = await system.call({"seconds": 0}, None, 5)
            return slow, quick

    slow, quick = asyncio.run(scenario())
    assert "did not answer within the 0.3 s timeout" in slow.error and slow.seconds < 1.5
    assert quick.outputs == {"slept": True}


def test_http_calls_run_concurrently(endpoint):
    system = make_system(f"{endpoint}/slow", working_directory=SAMPLES, concurrency=16)
    seconds, calls = timed_batch(system, {"seconds": 0.1}, 16)
    assert all(call.outputs == {"slept": True} for call in calls)
    assert seconds < 0.5


# --- Choosing the mode ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["my_system.py", "agents.well_behaved", "cmd:", "ftp://host/x", "http://"])
def test_unusable_system_input_is_rejected_with_the_accepted_forms(spec):
    with pytest.raises(SystemStartError) as raised:
        make_system(spec, working_directory=SAMPLES)
    assert "`system` input" in str(raised.value)


def test_unknown_form_lists_the_three_accepted_forms():
    with pytest.raises(SystemStartError) as raised:
        make_system("run.py", working_directory=SAMPLES)
    assert all(form in str(raised.value) for form in ("package.module:function", "cmd:<command line>", "https://"))


@pytest.mark.parametrize("spec", ["agents.well_behaved:run_system", "cmd:true"])
def test_missing_working_directory_fails_start(tmp_path, spec):
    system = make_system(spec, working_directory=tmp_path / "absent", python=sys.executable)
    assert "fix the `working-directory` input" in start_error(system)
