"""A run's git context on the wire: only known values, under camelCase names, and back."""

from __future__ import annotations

from scorecard_core.git import GitContext


def test_the_wire_carries_the_known_values_only():
    context = GitContext(
        repo="acme/bot",
        ref="feature",
        sha="abc",
        pr_number=7,
        base_ref="main",
        actions_run_url="https://github.com/acme/bot/actions/runs/9",
        event_name="pull_request",
        fork=True,
    )
    assert context.wire() == {
        "repo": "acme/bot",
        "ref": "feature",
        "sha": "abc",
        "prNumber": 7,
        "actionsRunUrl": "https://github.com/acme/bot/actions/runs/9",
    }
    assert GitContext(repo="acme/bot", ref="main").wire() == {"repo": "acme/bot", "ref": "main"}
    assert GitContext().wire() == {}


def test_from_wire_reads_back_what_wire_wrote():
    context = GitContext(repo="acme/bot", ref="feature", sha="abc", pr_number=7)
    assert GitContext.from_wire(context.wire()) == context
    assert GitContext.from_wire(None) == GitContext()
    assert GitContext.from_wire({"sha": "abc", "unknown": 1}) == GitContext(sha="abc")
