"""One definition of each option's default: the options form offers what the settings assume."""

from __future__ import annotations

from dataclasses import fields

from custom_components.anpr import config_flow
from custom_components.anpr.settings import (
    HISTORY_DEFAULTS,
    CameraSettings,
    EntrySettings,
    HistorySettings,
)


def test_camera_form_offers_the_settings_defaults() -> None:
    """A camera saved with the form's defaults is one whose options are missing."""
    offered = {
        str(marker): marker.default()
        for marker in config_flow._CAMERA_SETTINGS.schema
        if callable(getattr(marker, "default", None))
    }
    assert set(offered) >= {field.name for field in fields(CameraSettings)} - {"entity_id", "gate"}
    saved = config_flow._camera_options(offered)
    assert CameraSettings.from_options("camera.any", saved) == CameraSettings.from_options(
        "camera.any", {}
    )


def test_history_defaults_are_the_settings_defaults() -> None:
    assert EntrySettings.from_options({}).history == HistorySettings()
    assert HistorySettings.from_options(dict(HISTORY_DEFAULTS)) == HistorySettings()
    assert HistorySettings.from_options({"history_size": "12"}).size == 12
    assert list(HISTORY_DEFAULTS) == [
        "history_size",
        "retention_resident",
        "retention_visitor",
        "retention_unknown",
        "retention_blocked",
    ]
