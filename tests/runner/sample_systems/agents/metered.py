"""A system that returns its model's token usage beside the answer, as many LLM apps do."""

from __future__ import annotations

import time


def run_system(inputs, system_config=None):
    time.sleep(inputs.get("seconds", 0))
    words = len(inputs["question"].split())
    usage = {"prompt_tokens": 10 * words, "completion_tokens": words, "total_tokens": 11 * words}
    return {"answer": inputs["question"].upper(), "model": "gpt-4o-mini-2024-07-18", "usage": usage}
