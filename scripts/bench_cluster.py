"""The cluster's figures for ``bench.py --cluster``: four 1080p 10 s clips rendered three ways, in one run.

- cluster: ``motion_extract.py c1 c2 c3 c4 -o out/ --cluster local:2`` (two worker processes; many inputs
  are many whole-input tasks, so the four clips take two at a time), its cluster's start included;
- --jobs 2: ``motion_extract.py c1 c2 c3 c4 -o out/ --jobs 2`` (the inputs one after another, each in two
  processes);
- sequential: four ``motion_extract.py ci -o ...`` runs, one after another.

Every side writes H.264 ``.mp4`` with x264's own thread count on this machine (one encoder per render
in each: a worker's, or a ``--jobs`` render's parent), so the encoders are capped alike. The target:
the cluster no slower than ``--jobs 2`` by more than 10%. Needs ``distributed``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

CLUSTER_TARGET = 1.10  # the cluster's time over --jobs 2's, at most


def cluster_figures(clip: Path, cli: Path, run_child: Callable, repeat: int) -> list[str]:
    """The three ways' wall times (medians of ``repeat`` rounds, the ways alternating), as lines to print."""
    times: dict[str, list[float]] = {"cluster": [], "jobs": [], "sequential": []}
    with tempfile.TemporaryDirectory(dir=clip.parent) as folder:
        clips = []
        for index in range(1, 5):
            copy = Path(folder) / f"clip{index}.mp4"
            os.link(clip, copy)
            clips.append(str(copy))
        for _ in range(repeat):
            for way in times:
                out = Path(folder) / way
                out.mkdir(exist_ok=True)
                for name in os.listdir(out):
                    os.remove(out / name)
                commands = {
                    "cluster": [[*clips, "-o", f"{out}/", "--cluster", "local:2"]],
                    "jobs": [[*clips, "-o", f"{out}/", "--jobs", "2"]],
                    "sequential": [[path, "-o", str(out / Path(path).name)] for path in clips],
                }[way]
                wall = 0.0
                for arguments in commands:
                    output, code, _, seconds = run_child([sys.executable, str(cli), *arguments, "-q"])
                    if code != 0:
                        raise SystemExit(f"bench: {way} failed:\n{output[-3000:]}")
                    wall += seconds
                times[way].append(wall)
    cluster, jobs, sequential = (statistics.median(times[way]) for way in times)
    met = "met" if cluster <= CLUSTER_TARGET * jobs else "MISSED"
    runs = lambda way: " / ".join(f"{value:.1f}" for value in times[way])  # noqa: E731
    return [
        "| four 1080p 10 s clips to H.264 (1200 frames) | wall | frames/s | runs |",
        "|---|---|---|---|",
        f"| --cluster local:2 (two worker processes, its start included) | {cluster:.1f} s | {1200 / cluster:.1f} "
        f"| {runs('cluster')} |",
        f"| --jobs 2, the inputs one after another | {jobs:.1f} s | {1200 / jobs:.1f} | {runs('jobs')} |",
        f"| four sequential runs (--jobs 1) | {sequential:.1f} s | {1200 / sequential:.1f} | {runs('sequential')} |",
        "",
        f"cluster / --jobs 2: {cluster / jobs:.2f} (target <= {CLUSTER_TARGET:.2f}: {met}); "
        f"cluster / sequential: {cluster / sequential:.2f}",
    ]
