"""Schemathesis against the server on PostgreSQL: a file of its own so that it runs beside the
SQLite run (test_schemathesis.py) on another worker."""

from __future__ import annotations

import pytest

from tests.server.test_schemathesis import check_schemathesis, fuzzed_server  # noqa: F401  (a fixture)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_schemathesis_finds_no_failures(fuzzed_server, database_url, tmp_path, capsys):  # noqa: F811
    check_schemathesis(fuzzed_server, database_url, tmp_path, capsys)
