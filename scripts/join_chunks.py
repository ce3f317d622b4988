"""Join the chunk movies of one render: ``python scripts/join_chunks.py CHUNK... -o OUTPUT [--audio-from INPUT]``.

Also runs inside Blender: ``blender -b --python scripts/join_chunks.py -- CHUNK... -o OUTPUT``.
See ``--help`` and ``blender_addon/join.py``.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
if "bpy" in sys.modules:  # inside Blender: borrow OpenCV and PyAV from the project's venv if Blender lacks them
    import importlib.util

    if importlib.util.find_spec("cv2") is None or importlib.util.find_spec("av") is None:
        sys.path.extend(str(path) for path in REPO_ROOT.glob(".venv/lib/python3*/site-packages"))

from blender_addon.cli import script_arguments  # noqa: E402
from blender_addon.join import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(script_arguments(sys.argv)))
