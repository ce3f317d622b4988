#!/usr/bin/env bash
# Runs the whole test suite (lint, then pytest) in the project's virtual environment.
# Extra arguments go to pytest (for example -k engine).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$repo"
# Tools some tests run, which the product itself does not need: Debian's ffmpeg (the
# --print-ffmpeg tests) and node (the Flamenco job type's tests).
need() {  # need COMMAND PACKAGE WHAT
  command -v "$1" >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing $2 for $3..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "warning: $1 is not installed; $3 will fail (apt-get install $2)" >&2
  fi
}
need ffmpeg ffmpeg "the --print-ffmpeg tests"
need node nodejs "the Flamenco job type's tests"
"$venv/bin/ruff" check .
exec "$PYTHON" -m pytest "$@"
