"""The JSON shapes of monitors and their cycles (``scorecard_core.wire``) for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict

from .openapi_shapes import Run, WireId


class MonitorFilter(TypedDict):
    serviceName: Annotated[str | None, Field(description="only spans of this traced service")]
    spanName: Annotated[str | None, Field(description="a regular expression a span's name must match")]
    search: Annotated[str | None, Field(description="text the span's name, input or output must contain")]


class Monitor(TypedDict):
    id: WireId
    projectId: WireId
    description: str
    metrics: list[WireId]
    frequencyMinutes: Annotated[int, Field(ge=1, le=1440)]
    sampleRate: Annotated[int, Field(ge=1, le=100, description="percent of traces, chosen by trace ID")]
    filter: MonitorFilter
    active: bool
    nextCycleAt: Annotated[datetime | None, Field(description="null while paused")]
    createdAt: datetime
    updatedAt: datetime


class MonitorCycle(TypedDict):
    id: WireId
    monitorId: WireId
    runId: Annotated[WireId | None, Field(description="null when the cycle sampled no span")]
    trigger: Literal["schedule", "manual"]
    windowStart: datetime
    windowEnd: datetime
    candidates: Annotated[int, Field(description="spans in the window matching the filters, not sampled before")]
    sampled: int


class MonitorCycleResult(TypedDict):
    cycle: MonitorCycle
    run: Run | None
