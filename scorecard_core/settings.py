"""The server's configuration: one typed object, read once at start-up and passed down.

Every value comes from a ``SCORECARD_*`` environment variable (a few also from the OpenAI SDK's
own names), else its default; an app factory or CLI flag may override any field by name. A value
we cannot use stops start-up with one line naming the variable and what it accepts.

pydantic-settings does the reading: the fields below are the complete list of variables, typed
and bounded in one place, and it is already how our request bodies are validated.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AliasChoices, BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import InvalidField, ScorecardError
from .prices import DEFAULT_PRICES, ModelPrice, parse_prices

PREFIX = "SCORECARD_"
# Where a Flask app keeps its Settings (the server's and the standalone webhook service's).
APP_EXTENSION = "scorecard.settings"


def default_data_dir() -> Path:
    """``$SCORECARD_DATA_DIR``, else ``$XDG_DATA_HOME/scorecard``, else ``~/.local/share/scorecard``."""
    explicit = os.environ.get("SCORECARD_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "scorecard"


SECRET_KEY_FILE = "secret_key"


def load_or_create_secret_key(settings: Settings | None = None) -> str:
    """The key that signs web UI sessions: the setting's, else the one kept in the data dir,
    generated there (mode 0600) on first use so sessions survive restarts."""
    settings = settings or Settings()
    if settings.secret_key:
        return settings.secret_key
    directory = settings.data_dir
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


class InvalidSetting(ScorecardError, ValueError):
    """A setting holds a value we cannot use; the message names its variable."""

    code = "INVALID_SETTING"


def _whole_number(low: int, high: int) -> BeforeValidator:
    def check(raw: Any) -> int:
        text = str(raw).strip()
        if isinstance(raw, bool) or not text.isdigit() or not low <= int(text) <= high:
            raise ValueError(f"must be a whole number from {low} to {high}, not {raw!r}")
        return int(text)

    return BeforeValidator(check)


def _positive(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if isinstance(raw, bool) or not 0 < value < float("inf"):
        raise ValueError(f"must be a number above 0, not {raw!r}")
    return value


def _prices(raw: Any) -> dict[str, ModelPrice]:
    """JSON text as the variable holds it, or (an app factory's override) a table; both go over
    the defaults. ``_explain`` names the variable before the problem."""
    if not isinstance(raw, str):
        return {**DEFAULT_PRICES, **raw}
    try:
        return parse_prices(raw)
    except InvalidField as exc:
        raise ValueError(exc.problem) from None


def _comma_separated(raw: Any) -> tuple[str, ...]:
    parts = raw.split(",") if isinstance(raw, str) else raw
    return tuple(part.strip() for part in parts if part.strip())


PositiveNumber = Annotated[float, BeforeValidator(_positive)]
# `scorecard serve`: the bounds its flags and variables accept.
SERVE_THREADS = (1, 256)
SERVE_CONNECTION_LIMIT = (10, 100_000)
SERVE_CHANNEL_TIMEOUT = (1, 3600)


def read_from(*names: str) -> Any:
    """Read from these variables (the first set wins) instead of ``SCORECARD_<FIELD>``."""
    return AliasChoices(*names)


class Settings(BaseSettings):
    # The default database: this file in the data dir.
    database_file: ClassVar[str] = "scorecard.db"

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, frozen=True, populate_by_name=True, env_ignore_empty=True, extra="forbid"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    # Default: scorecard.db in the data dir (SQLite, one process).
    database_url: str = ""
    # Migrate the database to this version's schema at start-up.
    upgrade_database: bool = True
    public_url: str = "http://127.0.0.1:8000"
    # Signs web UI sessions; default: a key generated once and kept in the data dir.
    secret_key: str | None = Field(None, repr=False)
    max_body_bytes: Annotated[int, _whole_number(1024, 1024**3)] = 15 * 1024 * 1024

    # Scoring: the engine's parallel judge calls, how long one claim of a score lasts, and how
    # many claims may end without a stored result (the process died, the database refused the
    # result) before the score becomes an error instead of being claimed again.
    scoring_enabled: bool = True
    scoring_concurrency: Annotated[int, _whole_number(1, 1024)] = 32
    scoring_lease_seconds: PositiveNumber = 60.0
    scoring_max_attempts: Annotated[int, _whole_number(1, 100)] = 3
    # What tokens cost, for a run's cost: JSON of USD per million tokens over the defaults.
    model_prices: Annotated[dict[str, ModelPrice], NoDecode, BeforeValidator(_prices)] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES)
    )
    # The judge: any OpenAI-compatible server (OpenAI, Azure, vLLM, Ollama).
    openai_base_url: str = Field(
        "https://api.openai.com/v1", validation_alias=read_from("SCORECARD_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    openai_api_key: str | None = Field(None, validation_alias=read_from("OPENAI_API_KEY"), repr=False)

    # Workers on a queue (Celery over Redis or RabbitMQ): with a broker, scoring, server-run
    # executions, webhook deliveries and result publishing run in `scorecard worker` processes
    # instead of the web process. Every few seconds each worker sweeps the database for work
    # whose message was lost (a broker restart) or whose worker died (an expired lease).
    broker_url: str | None = Field(None, repr=False)
    worker_sweep_seconds: PositiveNumber = 5.0
    # A worker's judge and model calls at once (they wait on the network, so many per core).
    worker_concurrency: Annotated[int, _whole_number(1, 1024)] = 64

    # Runs the server executes itself (kickoffs with target scorecard or endpoint): how many at
    # once, and whether an endpoint system may be a link-local address (cloud metadata services).
    execution_concurrency: Annotated[int, _whole_number(1, 64)] = 4
    endpoint_allow_link_local: bool = False

    # Web UI sign-in: a session ends after this long without a request, and this long after
    # sign-in in any case (a working day), besides sign-out and revocation of its API key.
    session_idle_minutes: PositiveNumber = 60.0
    session_lifetime_hours: PositiveNumber = 12.0

    # Spans received over OTLP (/otel/v1/traces) are deleted this many days after they arrive.
    trace_retention_days: Annotated[int, _whole_number(1, 36500)] = 30
    # A monitor's scheduled cycle takes spans received up to this many seconds ago: a span is
    # stamped when its export is read, and an export still being stored must not fall between
    # two cycles' windows.
    monitor_settle_seconds: Annotated[int, _whole_number(0, 3600)] = 60

    # `scorecard serve`: worker threads; open connections before new ones wait (slow clients hold
    # one each, and no thread); seconds a connection may stay silent before it is closed.
    serve_threads: Annotated[int, _whole_number(*SERVE_THREADS)] = Field(
        8, validation_alias=read_from("SCORECARD_THREADS")
    )
    serve_connection_limit: Annotated[int, _whole_number(*SERVE_CONNECTION_LIMIT)] = Field(
        1000, validation_alias=read_from("SCORECARD_CONNECTION_LIMIT")
    )
    serve_channel_timeout: Annotated[int, _whole_number(*SERVE_CHANNEL_TIMEOUT)] = Field(
        60, validation_alias=read_from("SCORECARD_CHANNEL_TIMEOUT")
    )

    # GitHub, for the webhook service: where its API is and how to authenticate by default.
    github_api_url: str = "https://api.github.com"
    github_token: str | None = Field(None, repr=False)
    github_app_id: str | None = None
    github_app_private_key: str | None = Field(None, repr=False)
    # Comma-separated, so a secret can be rotated without dropping deliveries.
    github_webhook_secrets: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_separated)] = Field(
        (), validation_alias=read_from("SCORECARD_GITHUB_WEBHOOK_SECRET"), repr=False
    )
    # Background jobs for webhook deliveries and result publishing, and the pause between
    # writes to GitHub (its secondary rate limits).
    webhook_job_concurrency: Annotated[int, _whole_number(1, 256)] = 8
    github_seconds_between_writes: float = Field(1.0, ge=0)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise InvalidSetting(_explain(type(self), exc)) from None

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        # Frozen: set once here, so every reader sees the same values.
        object.__setattr__(self, "github_api_url", self.github_api_url.rstrip("/"))
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / self.database_file}")
        return self

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None) -> Settings:
        """The environment, with ``overrides`` by field name (any case: ``DATABASE_URL`` works)."""
        return cls(**{name.lower(): value for name, value in (overrides or {}).items()})

    @classmethod
    def split(cls, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """An app factory's config as (settings overrides, everything else: Flask's own keys)."""
        ours = {k: v for k, v in config.items() if k.lower() in cls.model_fields}
        return ours, {k: v for k, v in config.items() if k not in ours}


def variable_of(settings: type[Settings], field: str) -> str:
    """The environment variable a field is read from."""
    alias = settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{PREFIX}{field.upper()}"


def _explain(settings: type[Settings], exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = str(error["loc"][0]) if error["loc"] else ""
    field = next((name for name in settings.model_fields if where in (name, variable_of(settings, name))), None)
    name = variable_of(settings, field) if field else where
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{name} {message[:1].lower()}{message[1:]}"
