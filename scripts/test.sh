#!/usr/bin/env bash
# Runs the whole test suite (lint, then pytest) in the project's virtual environment.
# Extra arguments go to pytest (for example -k engine).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$repo"
# The --print-ffmpeg tests run Debian's ffmpeg (the product itself never needs it).
if ! command -v ffmpeg >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ffmpeg for the --print-ffmpeg tests..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  else
    echo "warning: ffmpeg is not installed; the --print-ffmpeg tests will fail (apt-get install ffmpeg)" >&2
  fi
fi
# The Flamenco job type's tests compile it under node.
if ! command -v node >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing nodejs for the Flamenco job type's tests..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
  else
    echo "warning: node is not installed; the Flamenco job type's tests are skipped (apt-get install nodejs)" >&2
  fi
fi
"$venv/bin/ruff" check .
exec "$PYTHON" -m pytest "$@"
