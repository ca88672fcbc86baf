"""The workers' tests need Redis: the server at 127.0.0.1:6379 and the `redis-server` command (for
a Redis of a test's own). Without them the tests skip, naming what to install; in CI they fail."""

from __future__ import annotations

import shutil

import pytest
import redis

from tests.conftest import IN_CI

MISSING = "install Redis (`sudo apt-get install -y redis-server`, which also starts it on 127.0.0.1:6379)"


@pytest.fixture(autouse=True)
def needs_redis() -> None:
    problems = []
    if shutil.which("redis-server") is None:
        problems.append("the `redis-server` command is not installed")
    try:
        redis.Redis(port=6379, socket_timeout=2).ping()
    except redis.RedisError as exc:
        problems.append(f"no Redis answers at 127.0.0.1:6379 ({exc})")
    if problems:
        message = f"{'; '.join(problems)}: {MISSING}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
