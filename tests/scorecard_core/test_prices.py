"""The price table: defaults, dated model names, and the JSON a user sets prices with."""

from __future__ import annotations

import pytest

from scorecard_core.errors import InvalidField
from scorecard_core.prices import DEFAULT_PRICES, ModelPrice, parse_prices, price_of
from scorecard_core.settings import InvalidSetting, Settings


def test_a_price_is_usd_per_million_tokens_in_and_out():
    assert ModelPrice(2.5, 10.0).cost(1_000_000, 500_000) == pytest.approx(7.5)
    assert ModelPrice(0.15, 0.60).cost(1000, 100) == pytest.approx(0.00021)


@pytest.mark.parametrize(
    ("model", "priced_as"),
    [
        ("gpt-4o", "gpt-4o"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # the longest matching name wins
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("o3-2025-04-16", "o3"),
    ],
)
def test_a_dated_model_name_takes_its_models_price(model, priced_as):
    assert price_of(model, DEFAULT_PRICES) == DEFAULT_PRICES[priced_as]


@pytest.mark.parametrize("model", ["o3-pro", "gpt-4o-audio-preview", "gpt-4", "claude-3-5-sonnet", "gpt-4o-"])
def test_another_model_that_only_starts_alike_has_no_price(model):
    assert price_of(model, DEFAULT_PRICES) is None


def test_every_common_openai_model_has_a_default_price():
    common = {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o3", "o3-mini", "o4-mini"}
    assert common <= set(DEFAULT_PRICES)
    assert all(price.input_per_million > 0 and price.output_per_million > 0 for price in DEFAULT_PRICES.values())


def test_given_prices_go_over_the_defaults():
    prices = parse_prices('{"my-model": {"input": 0.5, "output": 1.5}, "gpt-4o": {"input": 1, "output": 2}}')
    assert prices["my-model"] == ModelPrice(0.5, 1.5)
    assert prices["gpt-4o"] == ModelPrice(1.0, 2.0)
    assert prices["o3"] == DEFAULT_PRICES["o3"]
    assert price_of("my-model-2026-01-01", prices) == ModelPrice(0.5, 1.5)
    assert parse_prices("  ") == DEFAULT_PRICES


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{nope", "is not valid JSON"),
        ('[{"input": 1, "output": 2}]', "must be a JSON object of model names to prices"),
        ('{"m": 3}', 'gives "m" 3; give exactly "input" and "output"'),
        ('{"m": {"input": 1}}', 'give exactly "input" and "output"'),
        ('{"m": {"input": 1, "output": 2, "cached": 0.5}}', 'give exactly "input" and "output"'),
        ('{"m": {"input": -1, "output": 2}}', 'gives "m" an "input" of -1; give a number >= 0'),
        ('{"m": {"input": 1, "output": "2"}}', 'an "output" of "2"'),
        ('{"m": {"input": true, "output": 2}}', 'an "input" of true'),
        ('{"m": {"input": NaN, "output": 2}}', 'an "input" of NaN'),
        ('{"m": {"input": 1e999, "output": 2}}', 'an "input" of Infinity'),
        ('{" ": {"input": 1, "output": 2}}', "empty name"),
    ],
)
def test_bad_prices_name_the_field_and_what_to_give(text, problem):
    with pytest.raises(InvalidField) as raised:
        parse_prices(text)
    assert raised.value.field == "model-prices"
    assert raised.value.message.startswith("`model-prices` ") and problem in raised.value.message


def test_the_server_reads_its_prices_from_a_setting(monkeypatch):
    assert Settings().model_prices == DEFAULT_PRICES
    monkeypatch.setenv("SCORECARD_MODEL_PRICES", '{"local-llm": {"input": 0, "output": 0}}')
    assert Settings().model_prices == {**DEFAULT_PRICES, "local-llm": ModelPrice(0.0, 0.0)}
    monkeypatch.setenv("SCORECARD_MODEL_PRICES", '{"local-llm": {"input": 0}}')
    with pytest.raises(InvalidSetting, match='^SCORECARD_MODEL_PRICES gives "local-llm"'):
        Settings()
