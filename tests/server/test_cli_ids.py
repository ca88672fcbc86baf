"""`scorecard github connect` with IDs out of the 64-bit range, on SQLite and PostgreSQL: one line
naming the option, never a traceback; a valid but unknown project past 2^31 is simply not found."""

from __future__ import annotations

from scorecard_core.ids import MAX_ID
from tests.support.processes import run_cli

TOO_BIG = str(MAX_ID + 1)


def test_github_connect_names_the_option_of_an_out_of_range_id(database_url):
    def connect(*options: str):
        return run_cli("github", "connect", "--repo", "acme/bot", *options, database_url=database_url)

    cases = [
        (("--project", TOO_BIG), 2, "--project"),
        (("--project", str(2**31)), 1, "project 2147483648 not found"),
        (("--project", "1", "--installation-id", TOO_BIG), 1, "(set by --installation-id)"),
        (("--project", "1", "--metrics", f"1,{TOO_BIG}"), 1, "(set by --metrics)"),
    ]
    for options, returncode, named in cases:
        result = connect(*options)
        assert result.returncode == returncode, (options, result.stdout, result.stderr)
        assert named in result.stderr and "Traceback" not in result.stderr, (options, result.stderr)
