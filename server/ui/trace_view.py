"""How a trace looks on its page: the span tree flattened in display order with each span's depth
and timing bar, and the words for durations, times and costs the Traces pages share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from scorecard_core.models import Span
from scorecard_core.prices import ModelPrice
from scorecard_core.trace_queries import SpanCost, cost_of
from scorecard_core.wording import seconds

MAX_INDENT = 8  # deeper spans are indented as much as this; the page states their depth


@dataclass(frozen=True)
class SpanNode:
    """A span in the tree: its depth and its bar, offset and width in percent of the trace."""

    span: Span
    depth: int
    offset_ms: float
    offset_pct: float
    width_pct: float
    orphan: bool  # its parent was never received

    @property
    def indent(self) -> int:
        return min(self.depth, MAX_INDENT)


def span_tree(spans: list[Span]) -> list[SpanNode]:
    """The spans depth first, children in start order under their parent; a span whose parent is
    missing (or that a cycle of parents hides) starts a tree of its own."""
    ordered = sorted(spans, key=lambda s: (s.start_time, s.span_id))
    ids = {span.span_id for span in ordered}
    children: dict[str, list[Span]] = defaultdict(list)
    for span in ordered:
        if span.parent_span_id in ids and span.parent_span_id != span.span_id:
            children[span.parent_span_id].append(span)
    start = ordered[0].start_time if ordered else datetime.now(timezone.utc)
    total_ms = max([(s.end_time - start).total_seconds() * 1000 for s in ordered] + [0.001])
    nodes: list[SpanNode] = []
    placed: set[str] = set()
    tops = [s for s in ordered if s.parent_span_id not in ids or s.parent_span_id == s.span_id]
    for top in tops + ordered:  # then any span only a cycle of parents reaches
        if top.span_id in placed:
            continue
        stack = [(top, 0)]
        while stack:  # iterative: a trace may nest deeper than Python recurses
            span, depth = stack.pop()
            if span.span_id in placed:
                continue
            placed.add(span.span_id)
            offset = (span.start_time - start).total_seconds() * 1000
            nodes.append(
                SpanNode(
                    span,
                    depth,
                    offset,
                    round(100 * offset / total_ms, 2),
                    round(max(100 * span.duration_ms / total_ms, 0.5), 2),
                    orphan=span.parent_span_id is not None and span.parent_span_id not in ids,
                )
            )
            stack.extend((child, depth + 1) for child in reversed(children[span.span_id]))
    return nodes


def span_cost(span: Span, prices: Mapping[str, ModelPrice]) -> SpanCost | None:
    return cost_of([(span.model, span.input_tokens or 0, span.output_tokens or 0)], prices)


def trace_cost(spans: list[Span], prices: Mapping[str, ModelPrice]) -> SpanCost | None:
    spent: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for span in spans:
        spent[span.model][0] += span.input_tokens or 0
        spent[span.model][1] += span.output_tokens or 0
    return cost_of([(model, prompt, completion) for model, (prompt, completion) in spent.items()], prices)


def cost_text(cost: SpanCost | None) -> str:
    """Dollars; "—" when no tokens were spent or a model has no price (never a guess)."""
    if cost is None or cost.usd is None:
        return "—"
    return f"${cost.usd:,.2f}" if cost.usd >= 0.01 else f"${cost.usd:.6f}"


def cost_title(cost: SpanCost | None) -> str:
    if cost is None:
        return "No token usage reported"
    if cost.usd is None:
        return f"No price for {', '.join(cost.unpriced)}: set SCORECARD_MODEL_PRICES"
    return "Estimated from the model's price per token"


def moment(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(milliseconds: float) -> str:
    return f"{milliseconds:.1f} ms" if milliseconds < 10 else seconds(milliseconds)
