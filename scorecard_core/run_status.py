"""A run's status: Scorecard's wire values as one enum, and the groups the code asks about.

A run moves pending → awaiting/running execution → awaiting/running scoring → (awaiting human
scoring) → completed or error. The values are Scorecard's own strings, so a ``RunStatus``
compares equal to the JSON a client sends or receives and is stored as that string.
"""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    PENDING = "pending"
    AWAITING_EXECUTION = "awaiting_execution"
    RUNNING_EXECUTION = "running_execution"
    AWAITING_SCORING = "awaiting_scoring"
    RUNNING_SCORING = "running_scoring"
    AWAITING_HUMAN_SCORING = "awaiting_human_scoring"
    COMPLETED = "completed"
    ERROR = "error"

    def __str__(self) -> str:  # the wire value in f-strings and logs, on every Python version
        return self.value


# Records are still being added: the system is running.
EXECUTING = frozenset({RunStatus.PENDING, RunStatus.AWAITING_EXECUTION, RunStatus.RUNNING_EXECUTION})
# Records are in; automatic metrics are scoring them.
SCORING = frozenset({RunStatus.AWAITING_SCORING, RunStatus.RUNNING_SCORING})
# Nothing more will happen without a person.
FINISHED = frozenset({RunStatus.COMPLETED, RunStatus.ERROR})
# Everything automatic is done: a CI job waiting for scores can stop here.
SETTLED = FINISHED | {RunStatus.AWAITING_HUMAN_SCORING}
IN_PROGRESS = frozenset(RunStatus) - FINISHED
