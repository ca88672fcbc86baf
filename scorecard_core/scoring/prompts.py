"""The text the LLM judge is given: its instructions, the default metric prompt, the re-ask."""

from __future__ import annotations

# Sent as the system message, so a metric's own promptTemplate only has to describe the criterion.
SYSTEM_PROMPT = (
    "You are an impartial evaluator of an AI system's output. Judge the output against the "
    "guidelines you are given. Reply with only a JSON object of the form "
    '{{"reasoning": "<one short paragraph>", "score": <score>}}, where {score_rule}'
)

SCORE_RULES = {
    "boolean": "<score> is true if the output meets the guidelines and false if it does not.",
    "int": "<score> is an integer from 1 (worst) to 5 (best).",
    "float": "<score> is a number from 0.0 (worst) to 1.0 (best).",
}

# Used for AI metrics that have no promptTemplate. Dicts and lists render as JSON.
DEFAULT_PROMPT_TEMPLATE = """\
Guidelines:
{{ guidelines }}

Input given to the system:
{{ inputs }}

Output of the system:
{{ outputs }}
{% if expected %}
Expected output:
{{ expected }}
{% endif %}"""

# Appended after an answer we could not use, so the model is told what to fix rather than
# asked the identical question again (at temperature 0 it would repeat itself).
CORRECTION_PROMPT = (
    "Your previous answer could not be used: {problem}. "
    'Reply again with only the JSON object {{"reasoning": "...", "score": ...}}, where {score_rule}'
)


def system_prompt(output_type: str) -> str:
    return SYSTEM_PROMPT.format(score_rule=SCORE_RULES[output_type])


def correction_prompt(output_type: str, problem: str) -> str:
    return CORRECTION_PROMPT.format(problem=problem, score_rule=SCORE_RULES[output_type])
