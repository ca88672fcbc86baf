"""The app's scoring engine: started with the app, woken when new work is stored."""

from __future__ import annotations

from functools import partial

from flask import Flask, current_app

from scorecard_core.scoring.engine import ScoringEngine
from scorecard_core.scoring.judge import judge_record

EXTENSION = "scorecard.scoring"


def init_app(app: Flask) -> None:
    if not app.config["SCORING_ENABLED"]:
        app.extensions[EXTENSION] = None
        return
    config = app.config
    app.extensions[EXTENSION] = ScoringEngine(
        app.extensions["scorecard.engine"],
        partial(judge_record, base_url=config["OPENAI_BASE_URL"], api_key=config["OPENAI_API_KEY"]),
        concurrency=config["SCORING_CONCURRENCY"],
        lease_seconds=config["SCORING_LEASE_SECONDS"],
    ).start()


def wake() -> None:
    engine = current_app.extensions.get(EXTENSION)
    if engine is not None:
        engine.wake()


def stop(app: Flask) -> None:
    engine = app.extensions.get(EXTENSION)
    if engine is not None:
        engine.stop()
