"""Kickoff Run: one dialog that starts a run of a testset with a system version and metrics, on the
server (a prompt version, tab Scorecard; an HTTP endpoint, tab Endpoint) or through the connected
repository's workflow (tab GitHub, also the project page's panel). The API's kickoff does the work."""

from .views import bp

__all__ = ["bp"]
