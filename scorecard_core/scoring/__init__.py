"""Scoring: built-in heuristics, the LLM judge, and the engine that scores a run's records."""
