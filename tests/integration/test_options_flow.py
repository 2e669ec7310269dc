"""Options flow: the menu to add, edit and remove watched cameras, and general settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.data_entry_flow import FlowResult, FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.anpr.const import (
    CONF_BURST_FRAMES,
    CONF_BURST_INTERVAL,
    CONF_CAMERA,
    CONF_CAMERAS,
    CONF_COOLDOWN,
    CONF_DEFAULT_REGION,
    CONF_HOLD_TIME,
    CONF_MIN_CONFIDENCE,
    CONF_REGION,
    CONF_REQUEST_TIMEOUT,
    CONF_SCAN_INTERVAL,
    CONF_TRIGGERS,
    DOMAIN,
)

from .conftest import CAMERA, MOTION, camera_options

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

GATE = "camera.gate"


def form(**overrides: Any) -> dict[str, Any]:
    """Return what a user submits for one camera."""
    data: dict[str, Any] = {
        CONF_TRIGGERS: [MOTION],
        CONF_SCAN_INTERVAL: 0,
        CONF_BURST_FRAMES: 3,
        CONF_BURST_INTERVAL: 0.5,
        CONF_REGION: "br",
        CONF_MIN_CONFIDENCE: 0.5,
        CONF_HOLD_TIME: 60,
        CONF_COOLDOWN: 300,
    }
    data.update(overrides)
    return data


@pytest.fixture
def entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return an entry that is not loaded: the options flow works without the service.

    Home Assistant has two cameras; the entry watches one.
    """
    for camera in (CAMERA, GATE):
        hass.states.async_set(camera, "idle")
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="0" * 32,
        data={CONF_URL: "http://127.0.0.1:1", CONF_API_KEY: None},
        options={CONF_CAMERAS: {CAMERA: camera_options()}},
    )
    entry.add_to_hass(hass)
    return entry


async def open_menu(hass: HomeAssistant, entry: MockConfigEntry, choice: str) -> FlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": choice}
    )


async def test_menu_without_cameras(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    hass.config_entries.async_update_entry(entry, options={})
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["menu_options"] == ["add_camera", "add_plate", "sources", "settings"]
    hass.config_entries.async_update_entry(entry, options={CONF_CAMERAS: {CAMERA: {}}})
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["menu_options"] == [
        "add_camera",
        "edit_camera",
        "remove_camera",
        "add_plate",
        "sources",
        "settings",
    ]


async def test_add_camera(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    hass.config_entries.async_update_entry(entry, options={CONF_DEFAULT_REGION: "us"})
    result = await open_menu(hass, entry, "add_camera")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "add_camera"
    region_key = next(k for k in result["data_schema"].schema if k == CONF_REGION)
    assert region_key.description == {"suggested_value": "us"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERA: GATE, **form(region="none", scan_interval=30)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    camera = entry.options[CONF_CAMERAS][GATE]
    assert CONF_REGION not in camera  # "none" is stored as no hint
    assert camera[CONF_SCAN_INTERVAL] == 30
    assert isinstance(camera[CONF_BURST_FRAMES], int)
    assert entry.options[CONF_DEFAULT_REGION] == "us"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (form(triggers=[], scan_interval=0), {"base": "no_trigger"}),
        (form(scan_interval=1), {CONF_SCAN_INTERVAL: "interval_too_short"}),
    ],
)
async def test_add_camera_validation(
    hass: HomeAssistant, entry: MockConfigEntry, data: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await open_menu(hass, entry, "add_camera")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERA: GATE, **data}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    # Fixing the input saves it.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERA: GATE, **form(triggers=[], scan_interval=10)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_CAMERAS][GATE][CONF_TRIGGERS] == []


async def test_add_camera_already_watched(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await open_menu(hass, entry, "add_camera")
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_CAMERA: CAMERA, **form()}
        )


async def test_add_camera_when_every_camera_is_watched(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Said in words, not by an empty camera list ("No matching entities found")."""
    hass.config_entries.async_update_entry(
        entry, options={CONF_CAMERAS: {CAMERA: camera_options(), GATE: camera_options()}}
    )
    result = await open_menu(hass, entry, "add_camera")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "all_cameras_watched"


async def test_add_camera_without_any_camera(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    hass.config_entries.async_update_entry(entry, options={})
    for camera in (CAMERA, GATE):
        hass.states.async_remove(camera)
    result = await open_menu(hass, entry, "add_camera")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_cameras"


async def test_edit_camera(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await open_menu(hass, entry, "edit_camera")
    assert result["step_id"] == "edit_camera"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERA: CAMERA}
    )
    assert result["step_id"] == "camera_settings"
    assert result["description_placeholders"] == {"camera": CAMERA}
    suggested = {
        str(key): key.description["suggested_value"] for key in result["data_schema"].schema
    }
    assert suggested[CONF_REGION] == "br"
    assert suggested[CONF_TRIGGERS] == [MOTION]

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form(triggers=[], scan_interval=0)
    )
    assert result["errors"] == {"base": "no_trigger"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form(hold_time=30, region="none")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_CAMERAS][CAMERA][CONF_HOLD_TIME] == 30
    assert CONF_REGION not in entry.options[CONF_CAMERAS][CAMERA]


async def test_edit_camera_without_region(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    options = camera_options()
    del options[CONF_REGION]
    hass.config_entries.async_update_entry(entry, options={CONF_CAMERAS: {CAMERA: options}})
    result = await open_menu(hass, entry, "edit_camera")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERA: CAMERA}
    )
    region_key = next(k for k in result["data_schema"].schema if k == CONF_REGION)
    assert region_key.description == {"suggested_value": "none"}


async def test_remove_camera(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    hass.config_entries.async_update_entry(
        entry, options={CONF_CAMERAS: {CAMERA: camera_options(), GATE: camera_options()}}
    )
    result = await open_menu(hass, entry, "remove_camera")
    assert result["step_id"] == "remove_camera"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERAS: [GATE]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert list(entry.options[CONF_CAMERAS]) == [CAMERA]


async def test_settings(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await open_menu(hass, entry, "settings")
    assert result["step_id"] == "settings"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_REQUEST_TIMEOUT: 10, CONF_DEFAULT_REGION: "eu"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_REQUEST_TIMEOUT] == 10
    assert entry.options[CONF_DEFAULT_REGION] == "eu"
    assert CAMERA in entry.options[CONF_CAMERAS]  # other options are kept

    result = await open_menu(hass, entry, "settings")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_REQUEST_TIMEOUT: 10, CONF_DEFAULT_REGION: "none"}
    )
    assert entry.options[CONF_DEFAULT_REGION] is None
