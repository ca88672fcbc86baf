"""GitHub's reason for a refusal, read from PyGithub's exception (and anything shaped like it)."""

from __future__ import annotations

from github import GithubException

from scorecard_core.github_errors import github_message, github_reason


def refusal(status: int, data) -> GithubException:
    return GithubException(status, data, headers={})


def test_githubs_message_is_preferred():
    exc = refusal(403, {"message": "Resource not accessible by integration"})
    assert github_message(exc) == "Resource not accessible by integration"
    assert github_message(exc, "no message") == "Resource not accessible by integration"


def test_without_a_message_the_fallback_or_the_exceptions_text():
    for data in ({}, "<html>bad gateway</html>", None):
        exc = refusal(502, data)
        assert github_message(exc, "no message") == "no message"
        assert github_message(exc) == str(exc)


def test_the_reason_lists_githubs_errors():
    exc = refusal(
        422,
        {
            "message": "Invalid request",
            "errors": [{"message": 'Unexpected inputs provided: ["x"]'}, {"code": "missing_field"}, "plain", {}],
        },
    )
    assert github_reason(exc) == 'Invalid request; Unexpected inputs provided: ["x"]; missing_field; plain'
    assert github_reason(refusal(500, None)) == "no reason given"
    assert github_reason(GithubException(404, None, headers={}, message="Not Found")) == "Not Found"


def test_anything_shaped_like_it_is_read_the_same():
    class Refusal(Exception):
        status = 404
        data = {"message": "Not Found"}

    assert github_message(Refusal("x")) == "Not Found" and github_reason(Refusal("x")) == "Not Found"
    assert github_message(ValueError("plain")) == "plain"
