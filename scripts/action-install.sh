#!/usr/bin/env bash
# Installs the runner from the action's own checkout into a private virtualenv and prints its
# Python as the step output `python`. SCORECARD_RUNNER_PYTHON reuses an existing install.
set -euo pipefail
if [ -n "${SCORECARD_RUNNER_PYTHON:-}" ] && "$SCORECARD_RUNNER_PYTHON" -c "import runner" 2>/dev/null; then
  echo "python=$SCORECARD_RUNNER_PYTHON" >> "$GITHUB_OUTPUT"
  exit 0
fi
venv="${RUNNER_TEMP:-/tmp}/scorecard-runner-venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "::group::Installing the Scorecard runner"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$ACTION_PATH"
  echo "::endgroup::"
fi
echo "python=$venv/bin/python" >> "$GITHUB_OUTPUT"
