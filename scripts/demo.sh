#!/usr/bin/env bash
# Renders the motion extraction of the built-in sample clip and prints where it wrote it.
# Extra arguments go to scripts/motion_extract.py (for example --offset 5 --look difference).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$repo"
exec "$PYTHON" scripts/motion_extract.py --sample --overwrite --progress "$@"
