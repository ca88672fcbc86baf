"""The ``scorecard`` command answers bad flags, settings and addresses with one line naming them,
never a traceback, and never starts a server it cannot run."""

from __future__ import annotations

import socket
from importlib.metadata import version

import pytest

from tests.support.processes import run_cli


def one_line_error(result, exit_code: int = 1) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == exit_code, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


@pytest.mark.parametrize(
    ("args", "named", "accepted"),
    [
        (("--port", "99999"), "--port", "1<=x<=65535"),
        (("--port", "-1"), "--port", "1<=x<=65535"),
        (("--threads", "0"), "--threads", "1<=x<=256"),
        (("--connection-limit", "1"), "--connection-limit", "10<=x<=100000"),
        (("--channel-timeout", "0"), "--channel-timeout", "1<=x<=3600"),
    ],
)
def test_serve_flags_out_of_range_are_named_with_what_is_accepted(args, named, accepted, sqlite_url):
    line = one_line_error(run_cli("serve", *args, database_url=sqlite_url), exit_code=2)
    assert named in line and accepted in line, line


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("SCORECARD_THREADS", "0", "from 1 to 256"),
        ("SCORECARD_CONNECTION_LIMIT", "lots", "from 10 to 100000"),
        ("SCORECARD_CHANNEL_TIMEOUT", "-5", "from 1 to 3600"),
    ],
)
def test_serve_settings_out_of_range_are_named(variable, value, accepted, sqlite_url):
    line = one_line_error(run_cli("serve", database_url=sqlite_url, env_extra={variable: value}))
    assert variable in line and accepted in line and repr(value) in line, line


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_host_that_does_not_resolve_is_named(command, sqlite_url):
    line = one_line_error(run_cli(command, "--host", "nosuchhost.invalid", database_url=sqlite_url))
    assert "--host nosuchhost.invalid" in line and "IP address" in line, line


def test_a_busy_port_names_the_address(sqlite_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_error(run_cli("serve", "--port", str(port), database_url=sqlite_url))
    assert f"cannot listen on 127.0.0.1:{port}" in line and "already in use" in line, line


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("garbage", "is not a database URL"),
        ("mysql://scorecard@db.example/scorecard", "mysql is not supported"),
        ("postgresql+asyncpg://scorecard@db.example/scorecard", "driver 'postgresql+asyncpg' is not installed"),
    ],
)
def test_database_urls_we_cannot_use_are_named_with_the_forms_accepted(url, problem):
    for result, source in (
        (run_cli("serve", database_url=url), "SCORECARD_DATABASE_URL"),
        (run_cli("api-key", "list", "--database-url", url), "--database-url"),
    ):
        line = one_line_error(result)
        assert line.startswith(f"error: {source}") and problem in line, line
        assert "sqlite:///PATH or postgresql://" in line, line


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"scorecard, version {version('scorecard-github')}"


def test_api_key_list_without_keys_says_so(database_url):
    result = run_cli("api-key", "list", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no API keys yet; create one with `scorecard api-key create --name NAME`"
