"""Puts this repository's package on ``sys.path`` for the entry points beside it.

Inside Blender (``blender -b --python scripts/...``) it also borrows OpenCV and PyAV from the
project's ``.venv`` when Blender's own Python lacks them. Imported before numpy, it sets the process
up as the installed commands do (``blender_addon.commands.start_process``).
"""

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
if "bpy" in sys.modules and (importlib.util.find_spec("cv2") is None or importlib.util.find_spec("av") is None):
    sys.path.extend(str(path) for path in REPO_ROOT.glob(".venv/lib/python3*/site-packages"))

from blender_addon.commands import start_process  # noqa: E402

start_process()
