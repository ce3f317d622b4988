"""Checksums of the sample clips' lossless renders for every preset: the decoded pictures of an FFV1
``.mkv`` and the bytes of the first PNG frames, so a redesign can show that no output changed.

    .venv/bin/python scripts/lossless_checksums.py OUT_FOLDER [--check tests/data/lossless_checksums.json]

Matroska files carry a random segment id, so a movie is compared by its decoded pictures and, apart, by its
container tags (the chunk record, which may gain fields), not by its bytes; PNG files are compared byte for
byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from blender_addon.core.presets import PRESETS  # noqa: E402

PNG_FRAMES = "0:12"


def movie_digests(path: Path) -> tuple[str, str]:
    """Hashes of the movie's decoded pictures (every plane) and of its container tags (the chunk record)."""
    import av

    pictures = hashlib.sha256()
    with av.open(str(path)) as container:
        tags = hashlib.sha256(json.dumps(dict(container.metadata), sort_keys=True).encode())
        for frame in container.decode(video=0):
            for plane in frame.planes:
                pictures.update(bytes(plane))
    return pictures.hexdigest(), tags.hexdigest()


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.png")):
        digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def render(arguments: list[str]) -> None:
    subprocess.run([sys.executable, str(REPO / "scripts" / "motion_extract.py"), *arguments, "--overwrite", "-q"],
                   check=True, cwd=REPO)


def checksums(out: Path) -> dict[str, str]:
    found = {}
    for sample in ("tripod", "handheld"):
        for preset in PRESETS:
            movie, folder = out / f"{sample}_{preset}.mkv", out / f"{sample}_{preset}_png"
            folder.mkdir(parents=True, exist_ok=True)
            render(["--sample", sample, "--preset", preset, "-o", str(movie)])
            render(["--sample", sample, "--preset", preset, "-o", str(folder / "%04d.png"), "--frames", PNG_FRAMES])
            found[f"{sample}/{preset}/mkv"], found[f"{sample}/{preset}/mkv-tags"] = movie_digests(movie)
            found[f"{sample}/{preset}/png"] = folder_digest(folder)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the renders")
    parser.add_argument("--check", type=Path, help="compare with the checksums recorded in this file")
    args = parser.parse_args()
    found = checksums(args.out)
    if args.check is None:
        print(json.dumps(found, indent=1, sort_keys=True))
        return 0
    recorded = json.loads(args.check.read_text())
    found = {key: value for key, value in found.items() if key in recorded}
    differ = sorted(key for key in recorded if recorded[key] != found.get(key))
    for key in differ:
        print(f"differs: {key}")
    print(f"{len(recorded) - len(differ)} of {len(recorded)} lossless outputs as recorded")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
