"""Run history charts, drawn server-side as SVG: one chart per metric, one point per run.

The geometry is computed here; the template draws it. Boolean metrics plot the pass rate (0-100%),
int metrics the average on Scorecard's 1-5 scale, float metrics the average on 0-1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .formatting import metric_figure, status_group

WIDTH, HEIGHT = 560, 170
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 12, 14
SCALES = {"boolean": (0.0, 1.0), "int": (1.0, 5.0), "float": (0.0, 1.0)}


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    run_id: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    metric_id: str
    name: str
    output_type: str
    latest: str
    points: list[ChartPoint]
    line: str  # the polyline's "x,y x,y ..." over the runs that have a value
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT

    @property
    def measure(self) -> str:
        return "pass rate" if self.output_type == "boolean" else "average"


def history_chart(series: dict[str, Any]) -> Chart:
    """A chart from one metric of ``report_queries.history`` (points oldest first)."""
    output_type = series["outputType"]
    low, high = SCALES.get(output_type, (0.0, 1.0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = len(series["points"])

    def x_at(index: int) -> float:
        return round(LEFT + (plot_width * index / (count - 1) if count > 1 else plot_width / 2), 1)

    def y_at(value: float) -> float:
        fraction = min(max((value - low) / (high - low), 0.0), 1.0)
        return round(TOP + plot_height * (1 - fraction), 1)

    points = [
        ChartPoint(x_at(i), y_at(p["value"]), p["runId"], _point_title(output_type, p))
        for i, p in enumerate(series["points"])
        if p["value"] is not None
    ]
    middle = (low + high) / 2
    ticks = [Tick(y_at(v), _tick_label(output_type, v)) for v in (low, middle, high)]
    latest = series["points"][-1]["value"] if series["points"] else None
    return Chart(
        metric_id=series["metricId"], name=series["name"], output_type=output_type,
        latest=metric_figure(output_type, latest), points=points,
        line=" ".join(f"{p.x},{p.y}" for p in points), ticks=ticks,
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
