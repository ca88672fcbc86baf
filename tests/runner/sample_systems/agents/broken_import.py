"""A system whose dependency is not installed in the user's Python."""

import a_dependency_nobody_installed  # noqa: F401


def run_system(inputs, system_config=None):
    return {}
