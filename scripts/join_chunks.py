"""Join the chunk movies of one render: ``python scripts/join_chunks.py CHUNK... -o OUTPUT [--audio-from INPUT]``.

Also runs inside Blender: ``blender -b --python scripts/join_chunks.py -- CHUNK... -o OUTPUT``.
See ``--help`` and ``blender_addon/join.py``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import repository  # noqa: E402, F401 (the package on sys.path; inside Blender, the venv's OpenCV and PyAV)

from blender_addon.frontend import script_arguments  # noqa: E402
from blender_addon.join import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(script_arguments(sys.argv)))
