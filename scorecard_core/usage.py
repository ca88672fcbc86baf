"""What a run took: latency of the system calls, tokens spent by the system and by the judge, and
their cost at a price table (``prices``). Pure functions over what records and scores report;
``usage_queries`` feeds the same tally from the database.

A record reports its call's ``durationMs`` and, in ``metadata``, ``{"model", "usage":
{"prompt_tokens", "completion_tokens", "total_tokens"}}``; a score reports the judge's
``usage``: ``{"model", "promptTokens", "completionTokens", "totalTokens", "cached"}``. A cached
judgement spent nothing, so its tokens are counted as a cache hit instead.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .prices import DEFAULT_PRICES, ModelPrice, price_of

# How a usage that names no model appears among the models without a price.
UNNAMED_MODEL = "(unnamed model)"


@dataclass(frozen=True)
class TokenCount:
    prompt: int = 0
    completion: int = 0
    total: int = 0

    def __add__(self, other: TokenCount) -> TokenCount:
        return TokenCount(self.prompt + other.prompt, self.completion + other.completion, self.total + other.total)

    def as_dict(self) -> dict[str, int]:
        return {"prompt": self.prompt, "completion": self.completion, "total": self.total}


@dataclass(frozen=True)
class RunUsage:
    calls_timed: int  # records with a duration
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    system_tokens: TokenCount  # from records' metadata usage
    judge_tokens: TokenCount  # from scores' usage, excluding cached ones (not spent)
    # System + judge at the price table; None when any tokens' model has no price, or when no
    # usage was reported at all.
    cost_usd: float | None
    unknown_models: tuple[str, ...]  # models seen without a price
    judge_cache_hits: int  # scores whose usage says cached

    def as_dict(self) -> dict[str, Any]:
        return {
            "latencyMs": {"p50": self.latency_p50_ms, "p95": self.latency_p95_ms, "n": self.calls_timed},
            "systemTokens": self.system_tokens.as_dict(),
            "judgeTokens": self.judge_tokens.as_dict(),
            "costUsd": self.cost_usd,
            "unknownPriceModels": list(self.unknown_models),
            "judgeCacheHits": self.judge_cache_hits,
        }


def quantile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolating linearly between order statistics
    (numpy's default "linear" method; the "inclusive" method of ``statistics.quantiles``)."""
    position = (len(ordered) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def _count(value: Any) -> int:
    """A token count as reported; anything but a whole number >= 0 counts as none."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _tokens(prompt: Any, completion: Any, total: Any) -> TokenCount:
    prompt, completion = _count(prompt), _count(completion)
    return TokenCount(prompt, completion, _count(total) or prompt + completion)


def system_tokens(metadata: Any) -> TokenCount | None:
    """The tokens a record's ``metadata`` says its call spent; None when it reports no usage."""
    usage = metadata.get("usage") if isinstance(metadata, dict) else None
    if not isinstance(usage, dict):
        return None
    return _tokens(usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens"))


def _model(value: Any) -> str:
    return value if isinstance(value, str) and value else UNNAMED_MODEL


class UsageTally:
    """Records and scores added one at a time (a run may have 100k), then summed by ``result``."""

    def __init__(self) -> None:
        self._durations: list[float] = []
        self._system = TokenCount()
        self._judge = TokenCount()
        self._by_model: dict[str, TokenCount] = defaultdict(TokenCount)
        self._reported = False
        self._cache_hits = 0

    def add_record(self, duration_ms: Any, metadata: Any) -> None:
        """A record's ``durationMs`` and ``metadata`` (``{"model", "usage"}``), as stored."""
        if isinstance(duration_ms, (int, float)) and not isinstance(duration_ms, bool) and 0 <= duration_ms < math.inf:
            self._durations.append(float(duration_ms))
        tokens = system_tokens(metadata)
        if tokens is not None:
            self._system += tokens
            self._spent(metadata.get("model"), tokens)

    def add_score(self, usage: Any) -> None:
        """A score's judge ``usage``, as stored (None when the score reported none)."""
        if not isinstance(usage, dict):
            return
        self._reported = True
        if usage.get("cached") is True:
            self._cache_hits += 1
            return
        tokens = _tokens(usage.get("promptTokens"), usage.get("completionTokens"), usage.get("totalTokens"))
        self._judge += tokens
        self._spent(usage.get("model"), tokens)

    def add_wire(self, record: dict[str, Any]) -> None:
        """A record as the API lists it, with its ``scores``."""
        self.add_record(record.get("durationMs"), record.get("metadata"))
        for score in record.get("scores") or ():
            self.add_score(score.get("usage"))

    def _spent(self, model: Any, tokens: TokenCount) -> None:
        self._reported = True
        if tokens.total:
            self._by_model[_model(model)] += tokens

    def result(self, prices: Mapping[str, ModelPrice]) -> RunUsage:
        ordered = sorted(self._durations)
        priced = {model: price_of(model, prices) for model in self._by_model}
        unknown = tuple(sorted(model for model, price in priced.items() if price is None))
        cost = None
        if self._reported and not unknown:
            cost = sum(
                price.cost(self._by_model[model].prompt, self._by_model[model].completion)
                for model, price in priced.items()
                if price is not None
            )
        return RunUsage(
            calls_timed=len(ordered),
            latency_p50_ms=quantile(ordered, 0.5) if ordered else None,
            latency_p95_ms=quantile(ordered, 0.95) if ordered else None,
            system_tokens=self._system,
            judge_tokens=self._judge,
            cost_usd=float(cost) if cost is not None else None,
            unknown_models=unknown,
            judge_cache_hits=self._cache_hits,
        )


def usage_from_wire(records: Iterable[dict], prices: Mapping[str, ModelPrice] | None = None) -> RunUsage:
    """The usage of a run from its records as the API lists them, with their ``scores``."""
    tally = UsageTally()
    for record in records:
        tally.add_wire(record)
    return tally.result(DEFAULT_PRICES if prices is None else prices)


def _difference(now: float | None, base: float | None) -> float | None:
    return None if now is None or base is None else now - base


def _tokens_spent(usage: RunUsage) -> int | None:
    """Tokens the run spent; None when it reported no usage (nothing counted, no cache hit)."""
    total = usage.system_tokens.total + usage.judge_tokens.total
    return total if total or usage.judge_cache_hits or usage.cost_usd is not None else None


def compare_usage(now: RunUsage, base: RunUsage) -> dict[str, Any]:
    """How ``now`` differs from ``base`` (now minus base); None where either side lacks the figure."""
    tokens_now, tokens_base = _tokens_spent(now), _tokens_spent(base)
    return {
        "latencyP50MsDelta": _difference(now.latency_p50_ms, base.latency_p50_ms),
        "latencyP95MsDelta": _difference(now.latency_p95_ms, base.latency_p95_ms),
        "costUsdDelta": _difference(now.cost_usd, base.cost_usd),
        "totalTokensDelta": None if tokens_now is None or tokens_base is None else tokens_now - tokens_base,
    }
