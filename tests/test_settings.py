"""The settings model: defaults, validation and clip-dependent checks."""

import pytest

from blender_addon.core.settings import OPTIONS, OPTIONS_BY_NAME, Settings, SettingsError


def test_defaults_come_from_the_option_table():
    settings = Settings()
    for option in OPTIONS:
        assert getattr(settings, option.name) == option.default
    assert settings.to_dict() == {option.name: option.default for option in OPTIONS}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"mix": 1.5}, "mix must be between 0 and 1"),
        ({"mix": -0.1}, "mix must be between 0 and 1"),
        ({"amplify": -1}, "amplify must be between"),
        ({"look": "sepia"}, "look must be one of gray, difference, subtract"),
        ({"mode": "rewind"}, "mode must be one of shift, freeze"),
        ({"edges": "wrap"}, "edges must be one of hold, source, gray, trim"),
        ({"offset": 0}, "offset must not be 0"),
        ({"offset": 2.5}, "offset must be a number"),
        ({"reference": -1}, "reference must be between 0"),
        ({"mix": float("nan")}, "mix must be a number"),
    ],
)
def test_bad_values_are_rejected_with_the_option_named(changes, message):
    with pytest.raises(SettingsError, match=message):
        Settings(**changes)


def test_values_are_converted_to_the_option_type():
    settings = Settings(offset="7", mix="0.25", amplify=2)
    assert settings.offset == 7 and isinstance(settings.offset, int)
    assert settings.mix == 0.25 and isinstance(settings.amplify, float)


def test_offset_zero_is_fine_in_freeze_mode():
    assert Settings(mode="freeze", offset=0, reference=3).reference == 3


def test_from_mapping_rejects_unknown_names_and_round_trips():
    settings = Settings(mode="freeze", reference=4, look="difference", amplify=3.0, edges="trim")
    assert Settings.from_mapping(settings.to_dict()) == settings
    with pytest.raises(SettingsError, match="unknown setting: colour"):
        Settings.from_mapping({"colour": 1})


@pytest.mark.parametrize(
    "settings, frame_count, message",
    [
        (Settings(offset=10), 10, "offset 10 is out of range for a 10-frame clip"),
        (Settings(offset=-10), 10, "offset -10 is out of range"),
        (Settings(offset=1), 1, "offset 1 is out of range for a 1-frame clip"),
        (Settings(mode="freeze", reference=10), 10, "reference frame 10 is outside the clip"),
        (Settings(), 0, "the clip has no frames"),
    ],
)
def test_clip_dependent_limits(settings, frame_count, message):
    with pytest.raises(SettingsError, match=message):
        settings.validate_for_clip(frame_count)


def test_in_range_values_pass_the_clip_check():
    Settings(offset=9).validate_for_clip(10)
    Settings(offset=-9).validate_for_clip(10)
    Settings(mode="freeze", reference=9).validate_for_clip(10)


def test_describe_names_look_mode_and_number():
    assert Settings(offset=-3).describe() == "gray_shift-3"
    assert Settings(mode="freeze", reference=12, look="difference").describe() == "difference_freeze12"


def test_every_enumeration_has_its_default_among_its_choices():
    for option in OPTIONS:
        if option.choices:
            assert option.default in option.choice_values
    assert OPTIONS_BY_NAME["edges"].default == "hold"
