#!/usr/bin/env bash
# Renders the built-in sample clip and its motion side by side (H.264 with its sound) and prints where it wrote it.
# Extra arguments go to scripts/motion_extract.py (for example --offset 5 --look difference).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
cd "$repo"
exec "$PYTHON" scripts/motion_extract.py --sample --layout side --overwrite --progress "$@"
