#!/usr/bin/env bash
# Runs the whole test suite (lint, then pytest) in the project's virtual environment (bpy 5.0),
# then the bpy tests (pytest -m bpy) on Blender 5.1 and 5.2 in venvs of their own, where a
# Python 3.13 is found. Extra arguments go to every pytest run (for example -k engine).
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
need Xvfb xvfb "the live window's test"
# The bake test's Blender without OpenCV or PyAV (bpy alone), so only the extension's bundled wheels serve.
make_view_venv "$repo/.venv-blender-bare" "$venv" "$repo/requirements-bare.txt" || exit 1
# The live window's test: OpenCV's GUI build (the project's venv has the headless one) in a venv of its own.
make_venv "$repo/.venv-gui" "$repo/requirements-gui.txt" 3.11 || exit 1
"$venv/bin/ruff" check .
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# Room: the venvs take about 4.5 GB beside the repository, and the test runs up to 1 GB in the temporary folder.
for place in "$repo" "$scratch"; do
  free="$(df -Pk "$place" | awk 'NR == 2 { print int($4 / 1048576) }')"
  [ "$free" -ge 2 ] || echo "warning: only $free GB free where $place is; the suite may fail for want of room" >&2
done
# The Blender 5.1 and 5.2 venvs are made in the background while the 5.0 suite runs (their output
# is shown after it); then their bpy tests run side by side (each keeps about one core busy), each
# in its own temporary folder, their output in order once both are done.
setups=()
for blender in 5.1 5.2; do
  tagged="$repo/.venv-blender${blender/./}"
  ( make_venv "$tagged" "$repo/requirements-blender${blender/./}.txt" 3.13 \
    && make_view_venv "$tagged-bare" "$tagged" "$repo/requirements-blender${blender/./}-bare.txt" ) \
    > "$scratch/setup-$blender.log" 2>&1 &  # -bare: the bake test's
  setups+=("$blender:$!")
done
status=0
"$PYTHON" -m pytest --basetemp "$scratch/5.0" "$@" || status=$?
rm -rf "$scratch/5.0"  # room for the two runs to come (a failed test's folder is printed in its report)
runs=()
for setup in "${setups[@]}"; do
  blender="${setup%%:*}" code=0
  wait "${setup#*:}" || code=$?
  grep -v "^WARNING: Location" "$scratch/setup-$blender.log" >&2 || true
  tagged="$repo/.venv-blender${blender/./}"
  if [ "$code" = 0 ]; then
    "$tagged/bin/python" -m pytest -m bpy -p no:cacheprovider --basetemp "$scratch/$blender" "$@" \
      > "$scratch/$blender.log" 2>&1 &
    runs+=("$blender:$!")
  elif [ "$code" = 3 ]; then
    echo "note: no Python 3.13 found, so the bpy tests did NOT run on Blender $blender (only on 5.0)" >&2
  else
    status=1
  fi
done
[ ${#runs[@]} = 0 ] || echo "Running the bpy tests on Blender ${runs[*]%%:*}..." >&2
for run in "${runs[@]}"; do
  blender="${run%%:*}" code=0
  wait "${run#*:}" || code=$?
  echo "The bpy tests on Blender $blender (.venv-blender${blender/./}):" >&2
  cat "$scratch/$blender.log"
  [ "$code" = 0 ] || [ "$code" = 5 ] || status=$code  # 5: the arguments chose no bpy test
done
exit "$status"
