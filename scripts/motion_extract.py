"""Motion extraction from the command line: ``python scripts/motion_extract.py INPUT [options]``.

Also runs inside Blender: ``blender -b --python scripts/motion_extract.py -- INPUT [options]``.
See ``--help`` for every option.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
if "bpy" in sys.modules:  # inside Blender: borrow OpenCV and PyAV from the project's venv if Blender lacks them
    import importlib.util

    if importlib.util.find_spec("cv2") is None or importlib.util.find_spec("av") is None:
        sys.path.extend(str(path) for path in REPO_ROOT.glob(".venv/lib/python3*/site-packages"))

from blender_addon.cli import main, script_arguments  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(script_arguments(sys.argv)))
