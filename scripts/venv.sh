#!/usr/bin/env bash
# Creates or updates the project's virtual environment (.venv) from requirements.txt.
# Sourced by the other scripts; re-installs only when requirements.txt changes.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$repo/requirements.txt" | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  python=""
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python="$candidate"; break
    fi
  done
  if [ -z "$python" ]; then
    echo "error: Python 3.11 is required (the bpy 5.0 module is built for it)" >&2
    exit 1
  fi
  echo "Setting up $venv (first run takes a minute)..." >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$repo/requirements.txt"
  echo "$wanted" > "$stamp"
fi
PYTHON="$venv/bin/python"
