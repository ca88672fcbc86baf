"""What changed between two metric versions: short values whole, long text line by line, a field
a snapshot leaves out at its default read as that default."""

from __future__ import annotations

from scorecard_core.metric_history import Change, TextLine, changes


def test_short_values_change_whole_in_the_versions_field_order():
    before = {"name": "Polite", "passing_threshold": 4.0, "temperature": 0.0}
    after = {"name": "Polite", "passing_threshold": 3.0, "temperature": 0.5, "heuristic": None}
    assert changes(before, after) == (
        Change("temperature", 0.0, 0.5),
        Change("passing_threshold", 4.0, 3.0),
    )


def test_long_text_changes_line_by_line_with_unchanged_runs_left_out():
    before = "\n".join(f"line {i}" for i in range(10))
    after = before.replace("line 8", "line eight")
    [change] = changes({"guidelines": before}, {"guidelines": after})
    assert change.lines == (
        TextLine("same", "line 6"),
        TextLine("same", "line 7"),
        TextLine("removed", "line 8"),
        TextLine("added", "line eight"),
        TextLine("same", "line 9"),
    )
    [added] = changes({"prompt_template": None}, {"prompt_template": "a\nb"})
    assert added.lines == (TextLine("added", "a"), TextLine("added", "b"))


def test_a_judge_cache_left_out_is_on():
    assert changes({}, {"judge_cache": True}) == ()
    assert changes({}, {"judge_cache": False}) == (Change("judge_cache", True, False),)
