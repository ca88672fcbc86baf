"""One run filled by several jobs: which testcases a shard runs, and what a run still lacks.

A testcase belongs to shard ``i`` of ``N`` when the SHA-256 of its ID (the string, UTF-8), read
as a number, mod ``N`` is ``i - 1``. Every job computes the same split on its own, a page of
testcases at a time, so nothing has to be coordinated or passed between jobs, and the split stays
put when the testset grows (a testcase never changes shard unless ``N`` does).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
EXAMPLES_NAMED = 5  # testcase IDs named when the missing ones cannot be put down to shards


def shard_of(testcase_id: str, count: int) -> int:
    """The shard (1-based, of ``count``) that runs the testcase."""
    digest = hashlib.sha256(str(testcase_id).encode("utf-8")).hexdigest()
    return int(digest, 16) % count + 1


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard | None:
        """``"2/3"``, or None when the text is not ``i/N`` with ``1 <= i <= N``."""
        match = SHARD_PATTERN.match(text)
        if match is None:
            return None
        index, count = int(match[1]), int(match[2])
        return cls(index, count) if 1 <= index <= count else None

    def holds(self, testcase_id: str) -> bool:
        return shard_of(testcase_id, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class Gaps:
    """The testset's testcases, and those with fewer records in the run than ``trials``."""

    testcase_ids: list[str]
    missing: list[str]
    trials: int

    def problems(self, shard_count: int | None) -> list[str]:
        """One sentence per failed shard (per run without ``shard_count``) saying what is missing
        and what to do; none for a complete run."""
        if not self.missing:
            return []
        lack = "have no record" if self.trials == 1 else f"have fewer than {self.trials} records"
        if shard_count is None:
            named = ", ".join(self.missing[:EXAMPLES_NAMED]) + (", ..." if len(self.missing) > EXAMPLES_NAMED else "")
            return [
                f"the run is incomplete: {len(self.missing)} of {len(self.testcase_ids)} testcases {lack} "
                f"(testcase {named}); re-run the failed shard jobs to fill them "
                "(the `shard-count` input names the shards)"
            ]
        sizes = Counter(shard_of(t, shard_count) for t in self.testcase_ids)
        missing = Counter(shard_of(t, shard_count) for t in self.missing)
        return [
            f"shard {shard}/{shard_count} failed: {count} of its {sizes[shard]} testcases {lack}; "
            "re-run it to fill them"
            for shard, count in sorted(missing.items())
        ]


def tally_records(records: Iterable[dict[str, Any]]) -> tuple[Counter[str], set[str]]:
    """One pass over a run's records, which may stream in (a big run's do not fit in memory): how
    many each testcase has, and which look like a failed call uploaded to hosted Scorecard. That
    API keeps no record error, so a shard uploads a failed call with outputs ``{"error": ...}``
    only; the report job, which uploaded nothing, knows them by that shape."""
    recorded: Counter[str] = Counter()
    failed_calls: set[str] = set()
    for record in records:
        if record.get("testcaseId"):
            recorded[str(record["testcaseId"])] += 1
        if not record.get("error") and _error_only(record.get("outputs")):
            failed_calls.add(str(record["id"]))
    return recorded, failed_calls


def _error_only(outputs: Any) -> bool:
    return isinstance(outputs, dict) and list(outputs) == ["error"] and isinstance(outputs["error"], str)


def find_gaps(pages: Iterable[list[dict[str, Any]]], recorded: Mapping[str, int], trials: int) -> Gaps:
    """What the run lacks of the testset (its testcase ``pages``), given each testcase's records."""
    testcase_ids: list[str] = []
    missing: list[str] = []
    for page in pages:
        for testcase in page:
            testcase_id = str(testcase["id"])
            testcase_ids.append(testcase_id)
            if recorded.get(testcase_id, 0) < trials:
                missing.append(testcase_id)
    return Gaps(testcase_ids, missing, trials)
