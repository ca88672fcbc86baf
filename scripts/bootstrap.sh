# Sourced by the other scripts: makes .venv (once) and installs this project into it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv" >&2
  "$python" -m venv .venv
fi
# Reinstall only when the project's dependencies changed since the last install.
stamp=.venv/.scorecard-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing scorecard-github and its test dependencies into .venv" >&2
  # uv (from PyPI) installs the same requirements in seconds where pip takes half a minute;
  # pip does it alone where uv cannot be had.
  if .venv/bin/python -m pip install --quiet uv; then
    .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -e ".[test]"
  else
    .venv/bin/python -m pip install --quiet -e ".[test]"
  fi
  touch "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
