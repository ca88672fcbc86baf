"""WSGI entry point: ``gunicorn 'server.wsgi:app'`` (settings come from SCORECARD_* variables)."""

from . import create_app

app = create_app()
