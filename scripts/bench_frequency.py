"""The motion frequency's figures for ``bench.py --frequency``: what ``--spectrum`` and ``--frequency-map`` add to
a 1080p render, whole processes, against the same render without them.

Each row is a whole ``motion_extract.py`` process on the 1080p sample clip (10 s and 60 s) to H.264: wall time,
the cost per frame over the plain render (wall, and CPU time: on a shared machine the wall time moves with the
others' load), and peak RSS (the issue's target: the frequency map within 100 MB of the render without it).
Runs alternate plain and measured so that the machine's load falls on both alike.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

MAP_MEMORY_TARGET_MB = 100.0
OUTPUTS = {
    "plain": [],
    "--spectrum": ["--spectrum", "{folder}/s.json"],
    "--frequency-map": ["--frequency-map", "{folder}/map.png"],
}


def frequency_rows(clips: dict[int, Path], cli: Path, repeat: int, run_child) -> list[dict]:
    """For each clip length and output: median wall and CPU seconds and peak RSS (MB) over ``repeat`` alternating
    runs; ``run_child`` gives a command's output, exit code, peak RSS, wall and CPU seconds."""
    rows = []
    for seconds, clip in clips.items():
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in OUTPUTS}
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(repeat):
                for name, options in OUTPUTS.items():
                    command = [sys.executable, str(cli), str(clip), "-o", f"{folder}/m.mp4", "--overwrite", "-q",
                               *(option.format(folder=folder) for option in options)]
                    output, code, rss, wall, cpu = run_child(command)
                    if code != 0:
                        raise SystemExit(f"bench: {' '.join(command)} failed:\n{output[-3000:]}")
                    runs[name].append((wall, rss, cpu))
        for name, found in runs.items():
            rows.append({"seconds": seconds, "output": name, "wall": statistics.median(w for w, _, _ in found),
                         "cpu": statistics.median(c for _, _, c in found), "rss": max(r for _, r, _ in found),
                         "frames": seconds * 30})
    return rows


def print_frequency_figures(rows: list[dict], load_before: str, load_after: str) -> None:
    print(f"load average at start: {load_before}\n")
    print("| 1080p to H.264 | output | wall | CPU | cost per frame over plain (wall, CPU) | peak RSS | over plain "
          "| target |")
    print("|---|---|---|---|---|---|---|---|")
    plain = {row["seconds"]: row for row in rows if row["output"] == "plain"}
    for row in rows:
        base = plain[row["seconds"]]
        extra_ms = 1000 * (row["wall"] - base["wall"]) / row["frames"]
        extra_cpu = 1000 * (row["cpu"] - base["cpu"]) / row["frames"]
        extra_rss = row["rss"] - base["rss"]
        goal = "-"
        if row["output"] == "--frequency-map":
            goal = f"<= {MAP_MEMORY_TARGET_MB:.0f} MB {'met' if extra_rss <= MAP_MEMORY_TARGET_MB else 'MISSED'}"
        print(f"| {row['seconds']} s | {row['output']} | {row['wall']:.1f} s | {row['cpu']:.1f} s | "
              f"{'-' if row is base else f'{extra_ms:+.1f} ms, {extra_cpu:+.1f} ms'} | {row['rss']:.0f} MB | "
              f"{'-' if row is base else f'{extra_rss:+.0f} MB'} | {goal} |")
    print(f"\nload average at end: {load_after}")
