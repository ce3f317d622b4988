"""Named starting points for the settings, shared by the command line and the Blender panel.

A preset only names the options it changes; everything else keeps its default, and explicit
options given after it (on the command line, or by hand in the panel) override it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .settings import Settings, SettingsError

PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "classic": {},
        "glow": {"amplify": 2.0, "glow": 1.5, "glow_radius": 10.0, "glow_threshold": 12},
        "time-colour": {"offset": 2, "time_colour": True, "amplify": 1.5},
        "slow-change": {"offset": 30, "amplify": 3.0},
        "difference": {"look": "difference", "amplify": 3.0},
        "trails": {"look": "difference", "amplify": 3.0, "trails": 0.9},
        "overlay": {"overlay": "screen", "overlay_strength": 1.0, "amplify": 2.0},
        "half-second": {"delay_unit": "seconds", "offset_seconds": 0.5, "amplify": 2.0},
        "low-noise": {"pre_blur": 2.0, "amplify": 2.0},
        "gray-motion": {"saturation": 0.0, "amplify": 2.0},
        "tinted": {"look": "difference", "amplify": 3.0, "tint": True, "tint_colour": "#00ccff"},
        "matte": {"look": "matte"},
        "handheld": {"align": "similarity", "pre_blur": 1.0},
    }
)

PRESET_DESCRIPTIONS: Mapping[str, str] = MappingProxyType(
    {
        "classic": "Posy's look: the inverted copy one frame behind, mixed at 50% over the clip",
        "glow": "Classic, amplified, with a soft halo around everything that moves",
        "time-colour": "Red, green and blue compare with 2, 4 and 6 frames back: motion shows as colour fringes",
        "slow-change": "A 30-frame delay, amplified: shows slow drifts such as growth or shadows",
        "difference": "Absolute difference on black, amplified",
        "trails": "Difference on black with fading trails of where things moved",
        "overlay": "Motion screened over the original footage",
        "half-second": "Compared with half a second before, at any frame rate, amplified: slower movements show",
        "low-noise": "Classic with a 2-pixel pre-blur and amplified: sensor noise and grain stay gray",
        "gray-motion": "Classic without colour (saturation 0), amplified: only how much things moved",
        "tinted": "Difference on black in one colour (cyan): motion as a single-colour glow",
        "matte": "Moving on black: what moves shows in its own colours, the still background is black",
        "handheld": "Classic for shaky footage: each partner frame is moved, turned and scaled onto its frame, "
        "with a 1-pixel pre-blur against the resampling's softness",
    }
)


def preset_settings(name: str, **overrides: Any) -> Settings:
    """The settings of preset ``name`` with ``overrides`` applied on top."""
    if name not in PRESETS:
        raise SettingsError(f"unknown preset {name!r} (presets: {', '.join(PRESETS)})")
    return Settings.from_mapping({**PRESETS[name], **overrides})
