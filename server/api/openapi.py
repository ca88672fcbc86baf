"""The OpenAPI document of everything under /api/v2."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def document():
    return {"openapi": "3.1.0", "info": {"title": "Scorecard-compatible API", "version": "2"}, "paths": {}}
