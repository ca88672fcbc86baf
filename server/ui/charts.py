"""Run history charts, drawn server-side as SVG: one chart per metric, one point per run.

The geometry is computed here; the template draws it. Boolean metrics plot the pass rate (0-100%),
int metrics the average on Scorecard's 1-5 scale, float metrics the average on 0-1. The same
series go to the page as JSON too (``history_data``), for history.js to redraw them with uPlot:
synchronized cursors and every metric's value of the hovered run. The headline is the latest
*completed* run's: a run still scoring or failed would show a figure that is not final.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scorecard_core.models import Run
from scorecard_core.run_status import RunStatus

from .formatting import metric_figure, status_group

WIDTH, HEIGHT = 560, 180
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 12, 26
SCALES = {"boolean": (0.0, 1.0), "int": (1.0, 5.0), "float": (0.0, 1.0)}


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    run_id: str
    title: str


@dataclass(frozen=True)
class Tick:
    at: float  # y for the value axis, x for the run axis
    label: str


@dataclass(frozen=True)
class Chart:
    metric_id: str
    name: str
    output_type: str
    latest: str
    latest_run_id: str | None  # the latest completed run's, which the headline is
    points: list[ChartPoint]
    line: str  # the polyline's "x,y x,y ..." over the runs that have a value
    ticks: list[Tick]
    run_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM

    @property
    def measure(self) -> str:
        return "pass rate" if self.output_type == "boolean" else "average"


def history_chart(series: dict[str, Any], run_ids: list[str]) -> Chart:
    """A chart from one metric of ``report_queries.history`` (points oldest first). ``run_ids``
    are all the charted runs, oldest first: every chart places a run at the same x."""
    output_type = series["outputType"]
    low, high = SCALES.get(output_type, (0.0, 1.0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    position = {run_id: index for index, run_id in enumerate(run_ids)}

    def x_at(run_id: str) -> float:
        count, index = len(run_ids), position[run_id]
        return round(LEFT + (plot_width * index / (count - 1) if count > 1 else plot_width / 2), 1)

    def y_at(value: float) -> float:
        fraction = min(max((value - low) / (high - low), 0.0), 1.0)
        return round(TOP + plot_height * (1 - fraction), 1)

    points = [
        ChartPoint(x_at(p["runId"]), y_at(p["value"]), p["runId"], _point_title(output_type, p))
        for p in series["points"]
        if p["value"] is not None and p["runId"] in position
    ]
    middle = (low + high) / 2
    ticks = [Tick(y_at(v), _tick_label(output_type, v)) for v in (low, middle, high)]
    ends = dict.fromkeys(run_ids[:1] + run_ids[-1:])
    completed = [p for p in series["points"] if p["status"] == RunStatus.COMPLETED.value and p["value"] is not None]
    latest = completed[-1] if completed else None
    return Chart(
        metric_id=series["metricId"],
        name=series["name"],
        output_type=output_type,
        latest=metric_figure(output_type, latest["value"] if latest else None),
        latest_run_id=latest["runId"] if latest else None,
        points=points,
        line=" ".join(f"{p.x},{p.y}" for p in points),
        ticks=ticks,
        run_ticks=[Tick(x_at(run_id), f"#{run_id}") for run_id in ends],
    )


def _tick_label(output_type: str, value: float) -> str:
    return f"{value:.0%}" if output_type == "boolean" else f"{value:g}"


def _point_title(output_type: str, point: dict[str, Any]) -> str:
    day = datetime.fromisoformat(point["createdAt"]).strftime("%Y-%m-%d %H:%M")
    group = status_group(point["status"])
    return (
        f"Run #{point['runId']} · {day} · {metric_figure(output_type, point['value'])} "
        f"over {point['scored']} scores · {group.emoji} {group.label}"
    )


def history_data(series: list[dict[str, Any]], runs: list[Run]) -> str:
    """The charted series as JSON for history.js: the runs (oldest first) and, per metric, one
    value per run (null where the run has none), on the same scales as the SVG charts."""
    run_ids = [str(r.id) for r in runs]
    body = {
        "runs": [
            {
                "id": str(r.id),
                "createdAt": r.created_at.strftime("%Y-%m-%d %H:%M"),
                "status": status_group(r.status).label,
            }
            for r in runs
        ],
        "metrics": [
            {
                "id": s["metricId"],
                "name": s["name"],
                "outputType": s["outputType"],
                "scale": SCALES.get(s["outputType"], (0.0, 1.0)),
                "values": _aligned(s["points"], run_ids),
            }
            for s in series
        ],
    }
    return json.dumps(body, separators=(",", ":"))


def _aligned(points: list[dict[str, Any]], run_ids: list[str]) -> list[float | None]:
    by_run = {p["runId"]: p["value"] for p in points}
    return [by_run.get(run_id) for run_id in run_ids]
