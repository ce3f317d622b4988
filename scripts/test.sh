#!/usr/bin/env bash
# Runs the whole test suite (lint, then pytest) in the project's virtual environment.
# Extra arguments go to pytest (for example -k engine).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$repo"
"$venv/bin/ruff" check .
exec "$PYTHON" -m pytest "$@"
