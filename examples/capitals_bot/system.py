"""A tiny "AI system" for the demo: answers capital-city questions from a lookup table.

It is deliberately imperfect (a few answers are wrong, some are wordy) so the metrics have
something to say. Scorecard calls it as ``run_system(inputs, system_config)``.
"""

from __future__ import annotations

import re

KNOWN = {
    "France": "Paris",
    "Germany": "Berlin",
    "Italy": "Rome",
    "Spain": "Madrid",
    "Portugal": "Lisbon",
    "Netherlands": "Amsterdam",
    "Belgium": "Brussels",
    "Austria": "Vienna",
    "Poland": "Warsaw",
    "Sweden": "Stockholm",
    "Norway": "Oslo",
    "Finland": "Helsinki",
    "Denmark": "Copenhagen",
    "Ireland": "Dublin",
    "Greece": "Athens",
    "Hungary": "Budapest",
    "Czechia": "Prague",
    "Japan": "Tokyo",
    # Classic mistakes: the largest city instead of the capital.
    "Canada": "Toronto",
    "Australia": "Sydney",
    "Brazil": "Rio de Janeiro",
}


def run_system(inputs: dict, system_config: dict | None = None) -> dict:
    match = re.search(r"capital of (.+?)\?", inputs.get("question", ""))
    country = match.group(1) if match else ""
    answer = KNOWN.get(country, "I am not sure")
    if (system_config or {}).get("style") == "wordy":
        answer = f"The capital is {answer}."
    return {"answer": answer}
