"""Motion extraction from the command line: ``python scripts/motion_extract.py INPUT [options]``.

Also runs inside Blender: ``blender -b --python scripts/motion_extract.py -- INPUT [options]``.
See ``--help`` for every option.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import repository  # noqa: E402, F401 (the package on sys.path; inside Blender, the venv's OpenCV and PyAV)

from blender_addon.cli import main  # noqa: E402
from blender_addon.commands import run_on_cluster, settle_process  # noqa: E402 (Dask only for --cluster)
from blender_addon.frontend import script_arguments  # noqa: E402

if __name__ == "__main__":
    settle_process()
    sys.exit(main(script_arguments(sys.argv), cluster=run_on_cluster))
