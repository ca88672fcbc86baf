"""The judge cache: a judgement asked for again is answered from the database, not the judge.

At temperature 0 an AI score is a function of what the judge is asked: the model, the
temperature, the system prompt and the rendered prompt, the output type. A re-run whose outputs
did not change, or a re-score of an unchanged metric, asks exactly the same again, so the first
successful answer is kept under a hash of those (table ``judge_cache``) and reused: no tokens, no
waiting, and a re-run cannot flip a score on the judge's noise. The entry is keyed by what is
asked, not by metric or run, so any metric and run asking the same shares it.

Not cached: errors (the next asking tries again); temperature above 0 (variety was asked for);
metrics whose ``judge_cache`` is false; and a re-score asked ``fresh``, which asks the judge again
and replaces the entry. A reused score's usage says ``"cached": true`` with the tokens the first
asking paid for, so cost reports can tell what was saved.

Two workers may ask the same key at once: both call the judge and the first to store wins (the
insert ignores a key already there), so a race costs one call, never the score. The cache is an
optimisation: if the database cannot be read or written for it, the judge is simply asked.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from ..db import session_scope
from ..models import JudgeCacheEntry, table_of, utcnow
from .judge import Judgement, JudgeResult, prepare, usage_of
from .lifecycle import scored_by
from .one_record import Judge

log = logging.getLogger(__name__)


def judgement_of(config: Mapping[str, Any], **record: Any) -> Judgement | None:
    """The judgement a metric asks for on a record, when it may come from the cache."""
    if scored_by(dict(config)) != "ai" or config.get("judge_cache", True) is False:
        return None
    judgement = prepare(config, **record)
    if isinstance(judgement, JudgeResult) or judgement.temperature != 0:
        return None
    return judgement


def cache_key(judgement: Judgement) -> str:
    """sha256 of a canonical JSON of everything that determines the judge's answer."""
    canonical = {**asdict(judgement), "temperature": float(judgement.temperature)}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class JudgeCache:
    def __init__(self, engine: Engine):
        self.engine = engine

    def judging(self, judge: Judge, *, fresh: bool = False) -> Judge:
        """``judge``, answering from the cache what it holds (unless ``fresh``) and keeping what
        the judge answers successfully."""

        def cached_judge(config: Mapping[str, Any], **record: Any) -> JudgeResult:
            judgement = judgement_of(config, **record)
            if judgement is None:
                return judge(config, **record)
            key = cache_key(judgement)
            hit = None if fresh else self.lookup(key, judgement)
            if hit is not None:
                return hit
            result = judge(config, **record)
            if result.score is not None and result.error is None:
                self.store(key, result, replace=fresh)
            return result

        return cached_judge

    def lookup(self, key: str, judgement: Judgement) -> JudgeResult | None:
        try:
            with Session(self.engine) as session:
                entry = session.get(JudgeCacheEntry, key)
        except SQLAlchemyError:
            log.warning("could not read the judge cache; asking the judge", exc_info=True)
            return None
        if entry is None:
            return None
        return JudgeResult(entry.score, usage={**(entry.usage or usage_of(judgement.model)), "cached": True})

    def store(self, key: str, result: JudgeResult, *, replace: bool) -> None:
        """Keep a judgement; an entry already there stays unless ``replace`` (a fresh asking)."""
        dialect = {"postgresql": postgresql, "sqlite": sqlite}[self.engine.dialect.name]
        row = {"key": key, "score": result.score, "usage": result.usage, "created_at": utcnow()}
        statement = dialect.insert(table_of(JudgeCacheEntry)).values(row)
        if replace:
            statement = statement.on_conflict_do_update(
                index_elements=["key"],
                set_={name: statement.excluded[name] for name in ("score", "usage", "created_at")},
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=["key"])
        try:
            with session_scope(self.engine) as session:
                session.execute(statement)
        except SQLAlchemyError:
            log.warning("could not store a judgement in the judge cache", exc_info=True)
