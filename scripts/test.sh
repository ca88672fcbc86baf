#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: sets up .venv, then pytest.
# PostgreSQL tests use 127.0.0.1:5432 (database `test`); with CI=true its absence is a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
python -m pytest "$@"
