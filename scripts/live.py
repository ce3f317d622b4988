"""Live motion extraction from a camera, file or stream: ``python scripts/live.py [SOURCE] [options]``.

SOURCE is a camera index (default 0) or /dev/videoN, a video file, or a stream URL. The window
shows the original beside its motion; press h in it for the keys. ``--no-window`` runs without
a window (e.g. to record on a server). See ``--help`` for every option.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import repository  # noqa: E402, F401 (the package on sys.path)

from blender_addon.frontend import script_arguments  # noqa: E402
from blender_addon.live.command import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(script_arguments(sys.argv)))
