"""The Records page's records-over-time histogram: an SVG drawn on the server (geometry in SVG
attributes, colours in the stylesheet), each bar a link that filters the page to its period."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

WIDTH = 600
HEIGHT = 92
BOTTOM = 92  # bars stand on this line (the dates are text below the picture)
GAP = 1.5


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    title: str
    href: str


@dataclass(frozen=True)
class Histogram:
    width: int
    height: int
    bottom: int
    bars: list[Bar]
    first: str
    last: str
    highest: int


def _label(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def histogram(
    buckets: list[tuple[datetime, datetime, int]], href: Callable[[datetime, datetime], str]
) -> Histogram | None:
    """``href(start, end)``: the page filtered to a period. None when no record matches."""
    if not buckets or not any(count for _start, _end, count in buckets):
        return None
    highest = max(count for _start, _end, count in buckets)
    step = WIDTH / len(buckets)
    bars = []
    for index, (start, end, count) in enumerate(buckets):
        height = BOTTOM * count / highest
        # A period without records keeps a sliver to click, so every period can be chosen.
        shown = max(height, 1.0)
        title = f"{count} record{'' if count == 1 else 's'} from {_label(start)} to {_label(end)} UTC"
        bars.append(
            Bar(
                x=round(index * step + GAP / 2, 2),
                y=round(BOTTOM - shown, 2),
                width=round(max(step - GAP, 1.0), 2),
                height=round(shown, 2),
                count=count,
                title=title,
                href=href(start, end),
            )
        )
    return Histogram(WIDTH, HEIGHT, BOTTOM, bars, _label(buckets[0][0]), _label(buckets[-1][1]), highest)
