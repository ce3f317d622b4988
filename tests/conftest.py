"""Shared fixtures: the repository root on sys.path, and small synthetic clips."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from blender_addon.core.sample_clip import SampleClip  # noqa: E402


@pytest.fixture(scope="session")
def small_clip() -> SampleClip:
    """A 30-frame 160x90 sample clip, generated in memory."""
    return SampleClip(width=160, height=90, frame_count=30, fps=24.0)
