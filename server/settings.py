"""The app's Settings, read once by ``create_app`` and kept on the app (not copied into
``app.config``, which holds only Flask's own keys)."""

from __future__ import annotations

from flask import Flask, current_app

from scorecard_core.settings import APP_EXTENSION, Settings


def settings_of(app: Flask) -> Settings:
    return app.extensions[APP_EXTENSION]


def current_settings() -> Settings:
    return settings_of(current_app)
