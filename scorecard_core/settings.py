"""Configuration read from the environment, in one place.

Every variable uses the ``SCORECARD_`` prefix; the app factory and the CLI may override any of
them with explicit values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_data_dir() -> Path:
    """``$SCORECARD_DATA_DIR``, else ``$XDG_DATA_HOME/scorecard``, else ``~/.local/share/scorecard``."""
    explicit = os.environ.get("SCORECARD_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "scorecard"


def default_database_url(data_dir: Path | None = None) -> str:
    explicit = os.environ.get("SCORECARD_DATABASE_URL")
    if explicit:
        return explicit
    directory = data_dir or default_data_dir()
    return f"sqlite:///{directory / 'scorecard.db'}"


def default_openai_base_url() -> str:
    """The judge endpoint for AI metrics: any OpenAI-compatible server (OpenAI, Azure, vLLM, Ollama)."""
    return (
        os.environ.get("SCORECARD_OPENAI_BASE_URL")
        or os.environ.get("OPENAI_BASE_URL")
        or "https://api.openai.com/v1"
    )


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    public_url: str = field(
        default_factory=lambda: os.environ.get("SCORECARD_PUBLIC_URL", "http://127.0.0.1:8000")
    )
    max_body_bytes: int = 15 * 1024 * 1024
    scoring_concurrency: int = field(
        default_factory=lambda: int(os.environ.get("SCORECARD_SCORING_CONCURRENCY", "32"))
    )
    scoring_lease_seconds: float = field(
        default_factory=lambda: float(os.environ.get("SCORECARD_SCORING_LEASE_SECONDS", "60"))
    )
    openai_base_url: str = field(default_factory=default_openai_base_url)
    openai_api_key: str | None = field(default_factory=lambda: os.environ.get("OPENAI_API_KEY"), repr=False)

    @property
    def app_url(self) -> str:
        return self.public_url.rstrip("/")
