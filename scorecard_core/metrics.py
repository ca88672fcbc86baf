"""Metric rules (defaults, thresholds) and the immutable versions that runs score with."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from .errors import InvalidField
from .hashing import content_hash
from .models import Metric, MetricVersion, id_of
from .scoring.heuristics import validate_config as validate_heuristic
from .scoring.shapes import DEFAULT_THRESHOLDS, passes  # noqa: F401  (passes: imported from here by the server)

EVAL_TYPES = ("ai", "heuristic", "human")
OUTPUT_TYPES = ("boolean", "int", "float")
DEFAULT_EVAL_MODEL = "gpt-4o"

# Fields a metric version snapshots: everything that changes how a score is produced or judged.
VERSIONED_FIELDS = (
    "name",
    "description",
    "eval_type",
    "output_type",
    "guidelines",
    "prompt_template",
    "eval_model_name",
    "temperature",
    "passing_threshold",
    "heuristic",
)


def apply_rules(metric: Metric) -> None:
    """Fill Scorecard's defaults and reject thresholds outside the output type's range."""
    if metric.eval_type not in EVAL_TYPES:
        raise InvalidField("evalType", f"must be one of {', '.join(EVAL_TYPES)}")
    if metric.output_type not in OUTPUT_TYPES:
        raise InvalidField("outputType", f"must be one of {', '.join(OUTPUT_TYPES)}")
    if metric.output_type == "boolean":
        metric.passing_threshold = None
    elif metric.passing_threshold is None:
        metric.passing_threshold = DEFAULT_THRESHOLDS[metric.output_type]
    elif metric.output_type == "int" and not (1 <= metric.passing_threshold <= 5):
        raise InvalidField("passingThreshold", "must be between 1 and 5 for an int metric")
    elif metric.output_type == "int" and metric.passing_threshold != int(metric.passing_threshold):
        raise InvalidField("passingThreshold", "must be a whole number for an int metric (scores are 1 to 5)")
    elif metric.output_type == "float" and not (0 <= metric.passing_threshold <= 1):
        raise InvalidField("passingThreshold", "must be between 0 and 1 for a float metric")
    # Without a config a heuristic metric is scored by the caller's own code, as on hosted Scorecard.
    if metric.eval_type == "heuristic" and metric.heuristic is not None:
        metric.heuristic = validate_heuristic(metric.heuristic, metric.output_type)
    if metric.eval_type == "ai":
        metric.eval_model_name = metric.eval_model_name or DEFAULT_EVAL_MODEL
        if metric.temperature is None:
            metric.temperature = 0.0
    if metric.temperature is not None and not (0 <= metric.temperature <= 2):
        raise InvalidField("temperature", "must be between 0 and 2")


def metric_config(metric: Metric) -> dict[str, Any]:
    config = {name: getattr(metric, name) for name in VERSIONED_FIELDS}
    # Only when off: the versions (and config hashes) of metrics at the default stay as they were.
    if metric.judge_cache is False:
        config["judge_cache"] = False
    return config


def snapshot(session: Session, metric: Metric) -> MetricVersion:
    """The version matching the metric's current config, created on first use."""
    config = metric_config(metric)
    digest = content_hash(config)
    existing = session.exec(
        select(MetricVersion).where(col(MetricVersion.metric_id) == metric.id, col(MetricVersion.config_hash) == digest)
    ).first()
    if existing:
        return existing
    version = MetricVersion(metric_id=id_of(metric), config_hash=digest, config=config)
    session.add(version)
    session.flush()
    return version
