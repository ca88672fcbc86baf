"""Errors carry a code and no HTTP status; the server maps codes to statuses in one place."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import runner
import scorecard_core
import server
import webhook
from scorecard_core.errors import BadRequest, Conflict, InvalidField, NotFound, ScorecardError, Unauthorized
from server.error_status import STATUS_OF_CODE, http_status


def every_error_class() -> list[type[ScorecardError]]:
    for package in (scorecard_core, runner, webhook, server):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" not in module.name and not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    found, pending = [], [ScorecardError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_no_error_class_carries_an_http_status():
    classes = every_error_class()
    assert len(classes) > 10
    assert [cls.__qualname__ for cls in classes if "status" in vars(cls)] == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BadRequest("no"), 400),
        (InvalidField("name", "is required"), 400),
        (Unauthorized("who?"), 401),
        (NotFound.of("run", 1), 404),
        (Conflict("again"), 409),
        (ScorecardError("ours"), 500),
    ],
)
def test_codes_map_to_statuses(error, status):
    assert http_status(error) == status


def test_every_mapped_code_is_raised_by_some_error():
    codes = {cls.code for cls in every_error_class()} | {"GITHUB_UNAVAILABLE"}  # set per instance
    assert set(STATUS_OF_CODE) <= codes
