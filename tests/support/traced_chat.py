"""One chat completion through Scorecard's Python SDK tracing (``wrap_openai``), in a process of
its own: the SDK keeps one tracer provider per process, with an exporter for every endpoint it
was ever given, so each test's server gets a fresh process.

``python -m tests.support.traced_chat OPENAI_BASE_URL TRACES_ENDPOINT API_KEY PROJECT_ID [COUNT]``
asks the first COUNT questions (one by default), each in a trace of its own, and prints each
completion's text once the SDK has exported the spans.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from openai import OpenAI
from opentelemetry import trace
from scorecard_ai.lib import wrap_openai

QUESTIONS = [f"What is the capital of {country}?" for country in ("France", "Peru", "Japan", "Kenya", "Chile")]
QUESTION = QUESTIONS[0]
MODEL = "gpt-4o-mini"


def main(openai_base_url: str, endpoint: str, api_key: str, project_id: str, count: str = "1") -> None:
    client = wrap_openai(
        OpenAI(base_url=openai_base_url, api_key="test-key", max_retries=0),
        {"api_key": api_key, "project_id": project_id, "endpoint": endpoint, "service_name": "capitals"},
    )
    answers = []
    for question in QUESTIONS[: int(count)]:
        completion = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}])
        answers.append(completion.choices[0].message.content)
    # The SDK exports from a background thread: flush before exiting, and fail if it could not.
    if not trace.get_tracer_provider().force_flush(5000):  # type: ignore[attr-defined]
        sys.exit("the SDK's span exporter did not flush")
    print("\n".join(answers))


def chats_in_a_process(openai_base_url: str, endpoint: str, api_key: str, project_id: str, count: int = 1) -> list[str]:
    """Run ``count`` chats in a fresh process (see above); their answers."""
    called = subprocess.run(
        [sys.executable, "-m", __name__, openai_base_url, endpoint, api_key, project_id, str(count)],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert called.returncode == 0, called.stderr
    return called.stdout.splitlines()


if __name__ == "__main__":
    main(*sys.argv[1:])
