#!/usr/bin/env bash
# Creates or updates the project's virtual environment (.venv) from requirements.txt.
# Sourced by the other scripts; re-installs only when requirements.txt changes.
# Also defines find_python and make_venv, which scripts/test.sh uses for the Blender 5.1/5.2 venvs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# find_python X.Y: print the path of a Python X.Y (on PATH, else one installed by pyenv); fail if none.
find_python() {
  local candidate version
  for candidate in "python$1" python3; do
    command -v "$candidate" >/dev/null \
      && "$candidate" -c "import sys; assert sys.version.startswith('$1.'); print(sys.executable)" 2>/dev/null \
      && return
  done
  command -v pyenv >/dev/null || return 1
  version="$(pyenv versions --bare 2>/dev/null | grep -E "^$1\.[0-9]+$" | sort -V | tail -n 1)"
  [ -n "$version" ] && PYENV_VERSION="$version" pyenv which "python$1" 2>/dev/null
}

# make_venv DIR REQUIREMENTS X.Y: create DIR with Python X.Y and install REQUIREMENTS, unless DIR
# was already made from this very file; fail (status 3) when no Python X.Y is found.
make_venv() {
  local dir="$1" requirements="$2" python stamp="$1/.requirements.sha256" wanted
  # the file and those it names with -r or -c (relative to it), so a changed pin there remakes DIR too
  wanted="$(cd "$(dirname "$requirements")" && cat "$requirements" $(sed -n 's/^-[rc] *//p' "$requirements") \
    | sha256sum | cut -d' ' -f1)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    return
  fi
  python="$(find_python "$3")" || return 3
  echo "Setting up $dir from $(basename "$requirements") (first run takes a minute)..." >&2
  # (set -e does not hold inside a function called from a condition: each step checks itself)
  "$python" -m venv "$dir" || return 1
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip || return 1
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" || return 1
  echo "$wanted" > "$stamp"
}

# make_view_venv DIR FULL REQUIREMENTS: make DIR a venv of FULL's Python holding only the distributions
# REQUIREMENTS names (and what they need), linked from FULL's site-packages (scripts/venv_view.py), unless
# DIR was already made from this file and this FULL. REQUIREMENTS pins nothing of its own (-c FULL's file).
make_view_venv() {
  local dir="$1" full="$2" requirements="$3" stamp="$1/.requirements.sha256" wanted python site
  wanted="$(cat "$requirements" "$full/.requirements.sha256" | sha256sum | cut -d' ' -f1)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    return
  fi
  echo "Setting up $dir from $(basename "$requirements"), linked to $(basename "$full")..." >&2
  python="$("$full/bin/python" -c 'import sys; print(sys._base_executable)')" || return 1
  rm -rf "$dir"
  "$python" -m venv --without-pip "$dir" || return 1
  site="$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" || return 1
  "$full/bin/python" "$repo/scripts/venv_view.py" "$site" $(grep -v -e '^[-#]' -e '^ *$' "$requirements") \
    || return 1
  echo "$wanted" > "$stamp"
}

venv="$repo/.venv"
make_venv "$venv" "$repo/requirements.txt" 3.11 || {
  [ $? = 3 ] && echo "error: Python 3.11 is required (the bpy 5.0 module is built for it)" >&2
  exit 1
}
PYTHON="$venv/bin/python"
