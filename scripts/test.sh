#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: sets up .venv, then pytest.
# PostgreSQL tests use 127.0.0.1:5432 (database `test`); with CI=true its absence is a failure.
# The browser tests drive Debian's Chromium (never a downloaded browser): installed here when
# missing, as root or through sudo; otherwise they skip (fail with CI=true), naming the command.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
if [ ! -x /usr/bin/chromium ]; then
  install_chromium="apt-get install -y -q --no-install-recommends chromium chromium-driver"
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root="sudo"
  else
    as_root="nobody"
  fi
  if [ "$as_root" = nobody ] || ! command -v apt-get >/dev/null; then
    echo "==> Chromium is missing, so the browser tests will skip; install it with:" >&2
    echo "    sudo $install_chromium" >&2
  else
    echo "==> installing Debian's Chromium for the browser tests" >&2
    # $as_root unquoted on purpose: empty when already root.
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $as_root env DEBIAN_FRONTEND=noninteractive $install_chromium
  fi
fi
python -m pytest "$@"
