"""Metric rules (Scorecard's defaults, threshold ranges) and the versions runs score with."""

from __future__ import annotations

import pytest

from scorecard_core.db import session_scope
from scorecard_core.errors import InvalidField
from scorecard_core.metrics import DEFAULT_EVAL_MODEL, apply_rules, snapshot
from scorecard_core.models import Metric


def ruled(**fields) -> Metric:
    metric = Metric(project_id=1, name="m", **fields)
    apply_rules(metric)
    return metric


def test_defaults_follow_the_output_type():
    assert ruled(eval_type="human", output_type="int").passing_threshold == 4
    assert ruled(eval_type="human", output_type="float").passing_threshold == 0.9
    assert ruled(eval_type="human", output_type="boolean", passing_threshold=3).passing_threshold is None


def test_an_ai_metric_gets_the_default_judge_and_a_deterministic_temperature():
    metric = ruled(eval_type="ai", output_type="boolean")
    assert (metric.eval_model_name, metric.temperature) == (DEFAULT_EVAL_MODEL, 0.0)
    chosen = ruled(eval_type="ai", output_type="boolean", eval_model_name="judge-mini", temperature=0.7)
    assert (chosen.eval_model_name, chosen.temperature) == ("judge-mini", 0.7)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"eval_type": "robot", "output_type": "boolean"}, "evalType"),
        ({"eval_type": "ai", "output_type": "text"}, "outputType"),
        ({"eval_type": "human", "output_type": "int", "passing_threshold": 6}, "passingThreshold"),
        ({"eval_type": "human", "output_type": "float", "passing_threshold": 1.5}, "passingThreshold"),
        ({"eval_type": "ai", "output_type": "boolean", "temperature": 3}, "temperature"),
        ({"eval_type": "heuristic", "output_type": "boolean", "heuristic": {"type": "nope"}}, "heuristic.type"),
    ],
)
def test_out_of_range_settings_are_refused_naming_the_field(fields, field):
    with pytest.raises(InvalidField) as refused:
        ruled(**fields)
    assert refused.value.field == field


def test_a_heuristic_config_is_stored_with_its_defaults_filled():
    exact = {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}
    metric = ruled(eval_type="heuristic", output_type="boolean", heuristic=exact)
    assert metric.heuristic == {**exact, "caseSensitive": True, "trimWhitespace": True}


def test_a_version_is_shared_until_the_config_changes(world):
    metric = world.metric("Exact")
    with session_scope(world.engine) as session:
        first = snapshot(session, metric).id
        assert snapshot(session, metric).id == first
        metric.guidelines = "compare the answers"
        second = snapshot(session, metric)
        assert second.id != first
        assert second.metric_id == metric.id
        assert second.config["guidelines"] == "compare the answers"
        assert second.config["heuristic"] == metric.heuristic
        metric.guidelines = ""
        assert snapshot(session, metric).id == first  # back to the first config: its version


def test_an_int_metrics_threshold_is_a_whole_number():
    """Scorecard's int metrics take an integer passingThreshold (1-5). A fractional one would be
    shown truncated (wire.metric: 3) while scores are judged against it (3.5): a score of 3 would
    fail a metric that says 3 passes."""
    with pytest.raises(InvalidField) as refused:
        ruled(eval_type="human", output_type="int", passing_threshold=3.5)
    assert refused.value.field == "passingThreshold"
