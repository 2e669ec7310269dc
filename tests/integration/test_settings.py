"""One definition of each option's default: the options form offers what the settings assume."""

from __future__ import annotations

from dataclasses import fields

from custom_components.anpr import flow_common, options_sources
from custom_components.anpr.settings import (
    HISTORY_DEFAULTS,
    CameraSettings,
    EntrySettings,
    HistorySettings,
)
from custom_components.anpr.sources.settings import SourceKind, SourceSettings


def test_camera_form_offers_the_settings_defaults() -> None:
    """A camera saved with the form's defaults is one whose options are missing."""
    offered = {
        str(marker): marker.default()
        for marker in flow_common.CAMERA_SETTINGS.schema
        if callable(getattr(marker, "default", None))
    }
    assert set(offered) >= {field.name for field in fields(CameraSettings)} - {"entity_id", "gate"}
    saved = flow_common.camera_options(offered)
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


def test_source_forms_offer_the_settings_defaults() -> None:
    """A source saved with the form's defaults is one whose visit options are missing."""
    for kind in SourceKind:
        offered = {
            str(marker): marker.default()
            for marker in {
                **options_sources._kind_fields(kind),
                **options_sources._visit_fields(kind),
            }
            if callable(getattr(marker, "default", None))
        }
        saved = options_sources._stored(kind, offered)
        assert SourceSettings.from_options("any", saved) == SourceSettings.from_options(
            "any", {"kind": kind.value}
        )
