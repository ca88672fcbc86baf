"""The monitor form: what was typed, as the body the API's PATCH takes (``MonitorChanges``), so the
form accepts and refuses exactly what the settings functions do; a refusal worded naming the
form's field. Metrics are the project's ticked ones and new AI metrics, one description a line,
which the settings functions find or create."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import request

from scorecard_core.errors import InvalidField, ScorecardError
from scorecard_core.ids import parse_id
from scorecard_core.models import Monitor
from scorecard_core.monitor_settings import (
    DEFAULT_FREQUENCY_MINUTES,
    DEFAULT_SAMPLE_RATE,
    MAX_FREQUENCY_MINUTES,
    MIN_FREQUENCY_MINUTES,
    MonitorChanges,
    MonitorFilter,
)
from scorecard_core.storable import storable_text

FREQUENCIES = {1: "every minute", 5: "every 5 minutes", 15: "every 15 minutes", 30: "every 30 minutes"}
FREQUENCIES |= {60: "every hour", 6 * 60: "every 6 hours", 24 * 60: "every day"}
# The form's labels, by the names its inputs have.
LABELS = {
    "description": "Description",
    "metric": "Metrics",
    "new_metrics": "New AI metrics",
    "frequency_minutes": "Frequency",
    "sample_rate": "Sample rate",
    "service_name": "Service name",
    "span_name": "Span name",
    "search": "Search",
    "lookback_minutes": "Lookback",
}
# The body's field names (as an InvalidField names them), by the form's.
BODY_FIELDS = {
    "description": "description",
    "metrics": "metric",
    "frequencyMinutes": "frequency_minutes",
    "sampleRate": "sample_rate",
    "filter.spanName": "span_name",
    "lookbackMinutes": "lookback_minutes",
}


def frequency_words(minutes: int) -> str:
    if minutes in FREQUENCIES:
        return FREQUENCIES[minutes]
    if minutes % 60 == 0:
        return f"every {minutes // 60} hours"
    return f"every {minutes} minutes"


def whole_number(text: str, body_field: str, problem: str) -> int:
    """A typed whole number; anything else an InvalidField naming ``body_field``."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise InvalidField(body_field, problem)
    return int(text)


@dataclass
class MonitorForm:
    description: str = ""
    metrics: list[str] = field(default_factory=list)  # the ticked metrics' IDs
    new_metrics: str = ""  # descriptions of AI metrics to find or make, one a line
    frequency_minutes: str = str(DEFAULT_FREQUENCY_MINUTES)
    sample_rate: str = str(DEFAULT_SAMPLE_RATE)
    service_name: str = ""
    span_name: str = ""
    search: str = ""
    active: bool = True

    @classmethod
    def posted(cls) -> MonitorForm:
        def text(name: str) -> str:
            return storable_text(request.form.get(name, "").replace("\r\n", "\n"))

        return cls(
            description=text("description"),
            metrics=request.form.getlist("metric"),
            new_metrics=text("new_metrics"),
            frequency_minutes=text("frequency_minutes"),
            sample_rate=text("sample_rate"),
            service_name=text("service_name"),
            span_name=text("span_name"),
            search=text("search"),
            active="active" in request.form,
        )

    @classmethod
    def prefilled(cls, args: Mapping[str, str]) -> MonitorForm:
        """A new monitor's form with the Traces page's filters (``service``, ``span_name``, ``q``)."""
        return cls(service_name=args.get("service", ""), span_name=args.get("span_name", ""), search=args.get("q", ""))

    @classmethod
    def of(cls, monitor: Monitor) -> MonitorForm:
        return cls(
            description=monitor.description,
            metrics=[str(m) for m in monitor.metric_ids],
            frequency_minutes=str(monitor.frequency_minutes),
            sample_rate=str(monitor.sample_rate),
            service_name=monitor.service_name or "",
            span_name=monitor.span_name or "",
            search=monitor.search or "",
            active=monitor.active,
        )

    def descriptions(self) -> list[str]:
        return [line.strip() for line in self.new_metrics.split("\n") if line.strip()]

    def entries(self) -> list[str]:
        """What the body's ``metrics`` lists: the ticked IDs, then the new metrics' descriptions."""
        return [*self.metrics, *self.descriptions()]

    def changes(self) -> MonitorChanges:
        frequency = whole_number(
            self.frequency_minutes,
            "frequencyMinutes",
            f"must be a whole number of minutes from {MIN_FREQUENCY_MINUTES} to {MAX_FREQUENCY_MINUTES}",
        )
        rate = whole_number(self.sample_rate, "sampleRate", "must be a whole percentage from 1 to 100")
        for index, ticked in enumerate(self.metrics):
            if parse_id(ticked) is None:  # a ticked box is a metric ID; a forged one is no description
                raise InvalidField(
                    f"metrics[{index}]", "is not a metric ID: reload the page and tick metrics from the list"
                )
        metrics: list[str | int] = [*self.entries()]
        return MonitorChanges(
            description=self.description,
            metrics=metrics,
            frequency_minutes=frequency,
            sample_rate=rate,
            filter=MonitorFilter(service_name=self.service_name, span_name=self.span_name, search=self.search),
            active=self.active,
        )

    def problem(self, exc: ScorecardError) -> tuple[str, str | None]:
        """The refusal as the page says it, and the form field it names."""
        field_name, message = refusal(exc, self.entries(), len(self.metrics))
        return f"{message} Nothing was saved; correct it and save again.", field_name


def refusal(exc: ScorecardError, entries: list[str] | None = None, ticked: int = 0) -> tuple[str | None, str]:
    """The form field ``exc`` names and a sentence saying what is wrong with it: ``metrics[i]``
    is a ticked metric or a line of the new metrics, as ``entries`` lists them."""
    if not isinstance(exc, InvalidField):
        return None, exc.message.rstrip(".") + "."
    if exc.field.startswith("metrics[") and entries is not None:
        index = int(exc.field.removeprefix("metrics[").removesuffix("]"))
        listed = "metric" if index < ticked else "new_metrics"
        return listed, f"{LABELS[listed]}: “{entries[index]}” {exc.problem}."
    named = BODY_FIELDS.get(exc.field)
    if named is None:
        return None, exc.message.rstrip(".") + "."
    return named, f"{LABELS[named]} {exc.problem}."
