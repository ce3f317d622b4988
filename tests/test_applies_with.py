"""When an option acts: ``Option.applies_with`` against what the engine renders, for every option, look and mode.

Each option is rendered at two values (or each of its choices) in every context (look, mode, delay unit and the
settings that gate options: glow, tint, overlay, time colour and its unit): where its predicate says it does
nothing the frames are identical, where it says it acts at least one value changes them.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest

from blender_addon import cli
from blender_addon.cli import UsageError, build_parser, has_own_flag, settings_from_args
from blender_addon.core.engine import extract_motion
from blender_addon.core.presets import PRESETS, preset_settings
from blender_addon.core.settings import (
    LOOKS,
    MODES,
    OPTIONS,
    OPTIONS_BY_NAME,
    Colour,
    Settings,
    SettingsError,
    acting_options,
)

RATE = 8
FRAMES = 16

# A second value for each number: one the synthetic clip shows (times fit its 16 frames at 8 fps).
OTHER_NUMBERS = {
    "offset": -3, "offset_seconds": 0.5, "reference": 9, "reference_seconds": 1.0, "mix": 0.25,
    "matte_threshold": 40, "matte_softness": 2, "flow_scale": 1.0, "amplify": 2.5, "pre_blur": 2.0,
    "red_delay": 3, "green_delay": 1, "blue_delay": 1, "red_delay_seconds": 0.375, "green_delay_seconds": 0.125,
    "blue_delay_seconds": 0.125, "trails": 0.8, "glow": 1.5, "glow_radius": 2.0, "glow_threshold": 40,
    "saturation": 0.0, "overlay_strength": 0.4,
}
# Signed times of opposite signs, so that switching the unit shows even where only the sign counts.
BASE = {"offset": 2, "offset_seconds": -0.25, "reference": 3, "reference_seconds": 0.5}


def values(option, current) -> list:
    """``current`` first, then the option's other values to try: every choice, both states, or a second number."""
    if option.choices:
        others = list(option.choice_values)
    elif option.kind is bool:
        others = [False, True]
    elif option.kind is Colour:
        others = [option.default, "#00ccff"]
    else:
        others = [option.default, OTHER_NUMBERS.get(option.name, BASE.get(option.name))]
    return [current, *(value for value in others if value != current)]


def contexts() -> list[dict]:
    """Every look and mode, with each delay unit, and the gating settings all off or all on."""
    found = []
    for look, mode, unit in itertools.product((c.value for c in LOOKS), (c.value for c in MODES),
                                              ("frames", "seconds")):
        plain = {**BASE, "look": look, "mode": mode, "delay_unit": unit}
        gated = {**plain, "glow": 1.5, "tint": True, "overlay": "screen"}
        found += [plain, gated]
        if mode == "shift" and look != "flow":
            found += [{**gated, "time_colour": True, "channel_delay_unit": unit} for unit in ("offset", "seconds")]
    return found


class Clip:
    """A textured scene panned by the camera with a bright square crossing it."""

    def __init__(self) -> None:
        rng = np.random.default_rng(3)
        texture = rng.integers(0, 256, (40, 56, 3)).astype(np.float32)
        texture = np.repeat(np.repeat(texture, 4, axis=0), 4, axis=1)  # blocks with corners to track
        self.frames = []
        for index in range(FRAMES):
            frame = np.roll(texture, (index, 2 * index), axis=(0, 1))[:64, :96].astype(np.uint8)
            frame[20:32, 5 * index % 80:5 * index % 80 + 12] = (250, 240, 40 + 10 * index)
            self.frames.append(frame)
        self.frame_count = FRAMES
        self.height, self.width = 64, 96

    def read_from(self, start: int):
        yield from self.frames[start:]


CLIP = Clip()
_rendered: dict[Settings, np.ndarray] = {}


def render(settings: Settings) -> np.ndarray:
    if settings not in _rendered:
        _rendered[settings] = np.stack([frame.copy() for frame in extract_motion(CLIP, settings.in_frames(RATE))])
    return _rendered[settings]


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.name)
def test_an_option_changes_the_frames_exactly_where_its_predicate_says_it_acts(option):
    seen = {True: 0, False: 0}
    for context in contexts():
        try:
            settings = Settings(**context)
        except SettingsError:
            continue
        variants = []
        for value in values(option, getattr(settings, option.name)):
            try:
                variants.append(settings.replace(**{option.name: value}))
            except SettingsError:  # e.g. time colour in freeze mode: refused, so it never acts there
                continue
        acts = option.acts(settings)
        if len(variants) < 2:  # the settings refuse every other value here (time colour in freeze mode)
            seen[False] += not acts
            continue
        first = render(variants[0])
        changed = any(not same(first, render(other)) for other in variants[1:])  # stops at the first change
        assert changed is acts, f"{option.name} in {context}: predicate says acts={acts}, frames changed={changed}"
        seen[acts] += 1
    assert seen[True] > 0
    assert seen[False] > 0 or not option.applies_with


# --- the command line refuses exactly what the panel hides -------------------------------------------


def flag_contexts() -> list[list[str]]:
    """Every look and mode, with the settings that gate options off and on, as command-line flags."""
    found = []
    for look, mode in itertools.product((c.value for c in LOOKS), (c.value for c in MODES)):
        plain = ["--look", look, "--mode", mode]
        found += [plain, [*plain, "--glow", "1.5", "--tint", "--overlay", "screen"], [*plain, "--time-colour"]]
    return found


def given(option) -> list[list[str]]:
    """The flag of ``option`` with a value (and, for a time, in seconds too): what it sets is on, never off."""
    flag = "--" + option.name.replace("_", "-")
    if option.kind is bool:
        return [[flag]]
    value = option.choice_values[-1] if option.choices else str(OTHER_NUMBERS.get(option.name, option.default))
    return [[flag, value], [flag, "0.25s"]] if option.seconds else [[flag, value]]


@pytest.mark.parametrize("option", [option for option in OPTIONS if has_own_flag(option)], ids=lambda o: o.name)
def test_the_command_line_refuses_an_option_exactly_where_the_panel_hides_it(option, tmp_path):
    seen = {True: 0, False: 0}
    for context, flags in itertools.product(flag_contexts(), given(option)):
        arguments = [*context, *flags]
        try:
            before = settings_from_args(build_parser().parse_args(["in.mp4", *context]))
        except UsageError:  # time colour in freeze mode
            continue
        try:
            settings = settings_from_args(build_parser().parse_args(["in.mp4", *arguments]))
        except UsageError:  # the settings refuse it (time colour in freeze mode), where the panel hides it
            seen[False] += not option.acts(before)
            continue
        stderr = io.StringIO()
        code = cli.main([str(tmp_path / "missing.mp4"), "--print-ffmpeg", *arguments], io.StringIO(), stderr)
        refused = code == 2 and " applies with " in stderr.getvalue()
        assert stderr.getvalue().count("\n") == 1
        setting = option.seconds if flags[-1].endswith("s") else option.name
        shown = setting in {shown.name for shown in acting_options(settings)}
        assert refused is not shown, f"{' '.join(arguments)}: refused={refused}, panel shows {setting}={shown}"
        seen[shown] += 1
    assert seen[True] > 0
    assert seen[False] > 0 or not option.applies_with


def test_values_from_a_preset_are_not_refused_and_every_preset_sets_only_options_that_act(tmp_path):
    for name, values in PRESETS.items():
        settings = preset_settings(name)
        assert all(OPTIONS_BY_NAME[key].acts(settings) for key in values), name
    # The preset's --glow-radius does nothing without glow, and switching the legend off asks for nothing.
    for arguments in (["--preset", "glow", "--glow", "0"], ["--no-flow-legend"]):
        stderr = io.StringIO()
        code = cli.main([str(tmp_path / "missing.mp4"), "--print-ffmpeg", *arguments], io.StringIO(), stderr)
        assert code == 1 and "no such file" in stderr.getvalue(), arguments
