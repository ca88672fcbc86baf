"""The one Jinja environment for the templates a system version's config holds: a prompt's
messages and an endpoint's body. Both are written by users and rendered by the server, so the
environment is sandboxed.

A name the template uses but the context lacks is an error that names it (StrictUndefined), not a
silent blank: a typo in ``{{ inputs.questoin }}`` would otherwise send an empty prompt to a paid
model. Optional fields are written ``{{ inputs.hint | default("") }}``.

Values appear as text; dicts, lists and booleans as JSON, None as nothing. An endpoint's body must
be JSON, so values go in through ``tojson``: ``{"q": {{ inputs.question | tojson }}}`` escapes quotes
and newlines (Jinja's own ``tojson`` escapes ``<>&'`` for HTML, which no JSON body wants).

The LLM judge (``scorecard_core.scoring.judge``) has its own environment: chainable undefined
(a missing field renders empty, as Scorecard's metric prompts do) and no ``tojson`` override.
Both could share one factory taking the undefined class if a third user appears.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from scorecard_core.errors import ScorecardError


class TemplateFailed(ScorecardError):
    """A template could not be rendered; the message says why (an undefined name, a sandbox refusal)."""

    code = "TEMPLATE_ERROR"


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _shown(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        return to_json(value)
    return value


_ENVIRONMENT = SandboxedEnvironment(
    autoescape=False, undefined=jinja2.StrictUndefined, finalize=_shown, keep_trailing_newline=True
)
_ENVIRONMENT.filters["tojson"] = to_json


@lru_cache(maxsize=256)
def _compiled(template: str) -> jinja2.Template:
    return _ENVIRONMENT.from_string(template)


def system_context(inputs: dict, all_inputs: list[dict] | None) -> dict[str, Any]:
    """What a system's templates see: ``inputs``, and ``all.inputs`` (every testcase's inputs in the
    batch) when the caller gives them, as Scorecard's playground does."""
    return {"inputs": inputs} if all_inputs is None else {"inputs": inputs, "all": {"inputs": all_inputs}}


def check_template(template: str) -> str | None:
    """The template's syntax problem (``line N: ...``), or None when it parses."""
    try:
        _ENVIRONMENT.parse(template)
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    return None


def render(template: str, context: dict[str, Any]) -> str:
    """The rendered text; raises `TemplateFailed` for anything the template does wrong."""
    try:
        return _compiled(template).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateFailed(f"line {exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateFailed(f"it uses an undefined value: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001  (user-written template code can raise anything)
        raise TemplateFailed(f"{type(exc).__name__}: {exc}") from None
