"""Configuration read from the environment, in one place.

Every variable uses the ``SCORECARD_`` prefix; the app factory and the CLI may override any of
them with explicit values.
"""

from __future__ import annotations

import os
import secrets
import tempfile
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


SECRET_KEY_FILE = "secret_key"


def load_or_create_secret_key(data_dir: Path | None = None) -> str:
    """The key that signs web UI sessions: ``$SCORECARD_SECRET_KEY``, else the one kept in the data
    dir, generated there (mode 0600) on first use so sessions survive restarts."""
    explicit = os.environ.get("SCORECARD_SECRET_KEY")
    if explicit:
        return explicit
    directory = data_dir or default_data_dir()
    path = directory / SECRET_KEY_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        # Written to a private temporary file, then linked into place: a link never replaces an
        # existing file, so concurrent first starts agree on one key and none reads a partial one.
        descriptor, draft = tempfile.mkstemp(dir=directory, prefix=".secret_key-")  # mode 0600
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"{path} is empty: delete it to generate a new key, or set SCORECARD_SECRET_KEY")
    return key


def default_openai_base_url() -> str:
    """The judge endpoint for AI metrics: any OpenAI-compatible server (OpenAI, Azure, vLLM, Ollama)."""
    return (
        os.environ.get("SCORECARD_OPENAI_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    )


class InvalidSetting(ValueError):
    """A ``SCORECARD_*`` variable holds a value we cannot use; the message names it."""


def positive_number(variable: str, default: float) -> float:
    """``$variable`` as a number above zero, else ``default``; anything else names the variable."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise InvalidSetting(f"{variable} must be a number above 0, not {raw!r}")
    return value


def whole_number(variable: str, default: int, low: int, high: int) -> int:
    """``$variable`` as a whole number from ``low`` to ``high``, else ``default``."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidSetting(f"{variable} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


# `scorecard serve`: the bounds its flags and variables accept.
SERVE_THREADS = (1, 256)
SERVE_CONNECTION_LIMIT = (10, 100_000)
SERVE_CHANNEL_TIMEOUT = (1, 3600)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    public_url: str = field(default_factory=lambda: os.environ.get("SCORECARD_PUBLIC_URL", "http://127.0.0.1:8000"))
    max_body_bytes: int = 15 * 1024 * 1024
    scoring_concurrency: int = field(default_factory=lambda: int(os.environ.get("SCORECARD_SCORING_CONCURRENCY", "32")))
    scoring_lease_seconds: float = field(
        default_factory=lambda: float(os.environ.get("SCORECARD_SCORING_LEASE_SECONDS", "60"))
    )
    # Claims of one score that may end without a stored result (the process died, the database
    # refused the result) before the score becomes an error instead of being claimed again.
    scoring_max_attempts: int = field(default_factory=lambda: whole_number("SCORECARD_SCORING_MAX_ATTEMPTS", 3, 1, 100))
    # Web UI sign-in: a session ends after this long without a request, and this long after
    # sign-in in any case (a working day), besides sign-out and revocation of its API key.
    session_idle_minutes: float = field(default_factory=lambda: positive_number("SCORECARD_SESSION_IDLE_MINUTES", 60))
    session_lifetime_hours: float = field(
        default_factory=lambda: positive_number("SCORECARD_SESSION_LIFETIME_HOURS", 12)
    )
    # `scorecard serve`: worker threads; open connections before new ones wait (slow clients hold
    # one each, and no thread); seconds a connection may stay silent before it is closed.
    serve_threads: int = field(default_factory=lambda: whole_number("SCORECARD_THREADS", 8, *SERVE_THREADS))
    serve_connection_limit: int = field(
        default_factory=lambda: whole_number("SCORECARD_CONNECTION_LIMIT", 1000, *SERVE_CONNECTION_LIMIT)
    )
    serve_channel_timeout: int = field(
        default_factory=lambda: whole_number("SCORECARD_CHANNEL_TIMEOUT", 60, *SERVE_CHANNEL_TIMEOUT)
    )
    openai_base_url: str = field(default_factory=default_openai_base_url)
    openai_api_key: str | None = field(default_factory=lambda: os.environ.get("OPENAI_API_KEY"), repr=False)
    github_api_url: str = field(
        default_factory=lambda: os.environ.get("SCORECARD_GITHUB_API_URL", "https://api.github.com").rstrip("/")
    )
    github_token: str | None = field(default_factory=lambda: os.environ.get("SCORECARD_GITHUB_TOKEN"), repr=False)
    github_app_id: str | None = field(default_factory=lambda: os.environ.get("SCORECARD_GITHUB_APP_ID"))
    github_app_private_key: str | None = field(
        default_factory=lambda: os.environ.get("SCORECARD_GITHUB_APP_PRIVATE_KEY"), repr=False
    )
    # Comma-separated, so a secret can be rotated without dropping deliveries.
    github_webhook_secrets: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            s.strip() for s in os.environ.get("SCORECARD_GITHUB_WEBHOOK_SECRET", "").split(",") if s.strip()
        ),
        repr=False,
    )
