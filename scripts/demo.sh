#!/usr/bin/env bash
# The main job: a self-hosted server on SQLite, a seeded demo project, and its URL and API key.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
scorecard demo "$@"
