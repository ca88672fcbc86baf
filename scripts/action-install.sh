#!/usr/bin/env bash
# Sets up the Action's runner in a private virtualenv, so its dependencies never meet the user's.
# Only what `python -m runner` imports is installed (runner/requirements.txt: pinned, with hashes);
# the runner's own code is read from the action's checkout through a .pth file, so a virtualenv
# restored from the cache serves every commit of the action that pins the same requirements.
#
#   action-install.sh locate    step outputs `venv` and `key` (the cache key: the requirements, this
#                               script and the Python it builds on); nothing when reusing an install
#   action-install.sh install   builds the virtualenv unless the cache restored it; step output `python`
#
# SCORECARD_RUNNER_PYTHON names a Python that already imports the runner, to reuse instead.
# The installer is uv when it is on PATH (a cold install in about a second), else python3's pip.
set -euo pipefail
requirements="$ACTION_PATH/runner/requirements.txt"
venv="${RUNNER_TEMP:-/tmp}/scorecard-runner-venv"
python="$(command -v python3)"

reusing() {
  [ -n "${SCORECARD_RUNNER_PYTHON:-}" ] && "$SCORECARD_RUNNER_PYTHON" -c "import runner" 2>/dev/null
}

site_packages() {
  "$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))'
}

build() {
  cd "$ACTION_PATH" # not the user's project: its uv.toml or [tool.uv] settings are for its own installs
  if command -v uv >/dev/null 2>&1; then
    uv venv --quiet --python "$python" "$venv"
    uv pip install --quiet --python "$venv/bin/python" --no-deps --require-hashes -r "$requirements"
  elif "$python" -c "import pip" 2>/dev/null; then
    # python3's own pip fills the virtualenv: no pip inside it to install, one pip start-up.
    "$python" -m venv --without-pip "$venv"
    "$python" -m pip install --quiet --disable-pip-version-check --no-compile --no-deps --require-hashes \
      --target "$(site_packages)" -r "$requirements"
  else
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile --no-deps --require-hashes \
      -r "$requirements"
  fi
}

case "${1:-install}" in
  locate)
    reusing && exit 0
    # The Python's version and path, the requirements and this script: what the virtualenv is made of.
    made_of="$("$python" - "$requirements" "${BASH_SOURCE[0]}" "$venv" <<'EOF'
import hashlib, platform, sys
digest = hashlib.sha256(f"{sys.executable} {sys.argv[3]}".encode())
for path in sys.argv[1:3]:
    with open(path, "rb") as file:
        digest.update(file.read())
print(f"python{platform.python_version()}-{digest.hexdigest()[:16]}")
EOF
)"
    {
      echo "venv=$venv"
      echo "key=scorecard-runner-${RUNNER_OS:-}-${RUNNER_ARCH:-}-$made_of"
    } >> "$GITHUB_OUTPUT"
    ;;
  install)
    if reusing; then
      echo "python=$SCORECARD_RUNNER_PYTHON" >> "$GITHUB_OUTPUT"
      exit 0
    fi
    if [ ! -x "$venv/bin/python" ]; then
      echo "::group::Installing the Scorecard runner"
      trap 'rm -rf "$venv"' EXIT # a half-built virtualenv must not pass for an installed one
      build
      trap - EXIT
      echo "::endgroup::"
    fi
    echo "$ACTION_PATH" > "$(site_packages)/scorecard-runner.pth"
    echo "python=$venv/bin/python" >> "$GITHUB_OUTPUT"
    ;;
  *)
    echo "usage: action-install.sh locate|install" >&2
    exit 2
    ;;
esac
