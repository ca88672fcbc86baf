"""What model tokens cost: a price table in USD per million tokens, the defaults, and the JSON
a user gives to set their own (the Action's ``model-prices`` input, the server's
``SCORECARD_MODEL_PRICES``).

A model the table names matches itself and its dated snapshots: ``gpt-4o-mini-2024-07-18`` is
priced as ``gpt-4o-mini``. Only a snapshot suffix (``-`` then a digit) matches, so ``o3-pro`` is
not taken for ``o3``; when several names match, the longest wins.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidField

PRICES_FIELD = "model-prices"
EXAMPLE = '{"my-model": {"input": 0.5, "output": 1.5}}'


@dataclass(frozen=True)
class ModelPrice:
    """USD per million prompt (input) and completion (output) tokens."""

    input_per_million: float
    output_per_million: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million) / 1_000_000


# OpenAI's list prices for standard (non-batch, uncached) use as of 2025-06. Prices change and
# discounts differ per account: users should set their own.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(2.50, 10.00),
    "gpt-4o-mini": ModelPrice(0.15, 0.60),
    "gpt-4.1": ModelPrice(2.00, 8.00),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40),
    "o3": ModelPrice(2.00, 8.00),
    "o3-mini": ModelPrice(1.10, 4.40),
    "o4-mini": ModelPrice(1.10, 4.40),
}


def price_of(model: str, prices: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The price of ``model`` or of its undated name (see the module's docstring); None if unpriced."""
    if model in prices:
        return prices[model]
    matches = [name for name in prices if _is_snapshot_of(model, name)]
    return prices[max(matches, key=len)] if matches else None


def _is_snapshot_of(model: str, name: str) -> bool:
    rest = model[len(name) :] if model.startswith(name) else ""
    return len(rest) > 1 and rest[0] == "-" and rest[1].isdigit()


def parse_prices(text: str, field: str = PRICES_FIELD) -> dict[str, ModelPrice]:
    """The defaults with the prices ``text`` sets (JSON like ``EXAMPLE``, USD per million tokens)
    over them; blank text is the defaults. A problem raises ``InvalidField`` naming ``field``."""
    if not text.strip():
        return dict(DEFAULT_PRICES)
    try:
        given = json.loads(text)
    except ValueError as exc:
        raise InvalidField(field, f"is not valid JSON ({exc}); give prices like {EXAMPLE}") from None
    if not isinstance(given, dict):
        raise InvalidField(field, f"must be a JSON object of model names to prices, like {EXAMPLE}")
    return {**DEFAULT_PRICES, **{model: _price(field, model, price) for model, price in given.items()}}


def _price(field: str, model: str, price: Any) -> ModelPrice:
    if not model.strip():
        raise InvalidField(field, "names a model with an empty name; use the name the model reports")
    if not isinstance(price, dict) or set(price) != {"input", "output"}:
        raise InvalidField(
            field, f'gives "{model}" {json.dumps(price)}; give exactly "input" and "output", like {EXAMPLE}'
        )
    return ModelPrice(_per_million(field, model, "input", price), _per_million(field, model, "output", price))


def _per_million(field: str, model: str, key: str, price: dict[str, Any]) -> float:
    value = price[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise InvalidField(
            field, f'gives "{model}" an "{key}" of {json.dumps(value)}; give a number >= 0 (USD per million tokens)'
        )
    return float(value)
