"""Options flow: the plate registry (add, edit, remove, list), a camera's gate, history.

The registry is not an option: these steps edit its store directly, with the entry loaded or
not, and never change `entry.options` (which would reload the entry).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.anpr.const import (
    CONF_CAMERA,
    CONF_CAMERAS,
    CONF_DEFAULT_REGION,
    CONF_GATE,
    CONF_HISTORY_SIZE,
    CONF_REQUEST_TIMEOUT,
    CONF_RETENTION_BLOCKED,
    CONF_RETENTION_RESIDENT,
    CONF_RETENTION_UNKNOWN,
    CONF_RETENTION_VISITOR,
    DOMAIN,
    Category,
)
from custom_components.anpr.registry import async_get_registry

from .conftest import CAMERA, camera_options
from .test_options_flow import form

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from custom_components.anpr.registry import PlateRegistry

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / "anpr"
FAR_FUTURE = "2099-01-01 10:00:00"


@pytest.fixture
def entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return an entry that is not loaded: the registry is managed without the service."""
    for camera in (CAMERA, "camera.gate"):
        hass.states.async_set(camera, "idle")
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="0" * 32,
        data={CONF_URL: "http://127.0.0.1:1", CONF_API_KEY: None},
        options={CONF_CAMERAS: {CAMERA: camera_options()}},
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def registry(hass: HomeAssistant, entry: MockConfigEntry) -> PlateRegistry:
    """Return the entry's registry."""
    return await async_get_registry(hass, entry.entry_id)


async def open_menu(hass: HomeAssistant, entry: MockConfigEntry, choice: str) -> FlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": choice}
    )


async def submit(hass: HomeAssistant, result: FlowResult, data: dict[str, Any]) -> FlowResult:
    return await hass.config_entries.options.async_configure(result["flow_id"], data)


def suggested(result: FlowResult) -> dict[str, Any]:
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }


async def test_menu_offers_plate_steps_once_there_are_plates(
    hass: HomeAssistant, entry: MockConfigEntry, registry: PlateRegistry
) -> None:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert "add_plate" in result["menu_options"]
    assert "list_plates" not in result["menu_options"]
    registry.async_add("AYO9034", "Alice")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["menu_options"] == [
        "add_camera",
        "edit_camera",
        "remove_camera",
        "add_plate",
        "edit_plate",
        "remove_plate",
        "list_plates",
        "sources",
        "settings",
    ]


async def test_add_resident(
    hass: HomeAssistant, entry: MockConfigEntry, registry: PlateRegistry
) -> None:
    options = dict(entry.options)
    result = await open_menu(hass, entry, "add_plate")
    assert result["step_id"] == "add_plate"
    result = await submit(hass, result, {"plate": "ayo-9034", "name": "Alice", "notes": "blue"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == options  # the registry is not an option
    alice = registry.plates["AYO9034"]
    assert (alice.name, alice.category, alice.notes) == ("Alice", Category.RESIDENT, "blue")


async def test_add_visitor_with_a_pass(
    hass: HomeAssistant, entry: MockConfigEntry, registry: PlateRegistry
) -> None:
    result = await open_menu(hass, entry, "add_plate")
    result = await submit(
        hass,
        result,
        {
            "plate": "XYZ9876",
            "name": "Bob",
            "category": "visitor",
            "valid_from": "2098-12-31 10:00:00",
            "valid_until": FAR_FUTURE,
            "max_entries": 3,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    bob = registry.plates["XYZ9876"]
    assert bob.category is Category.VISITOR
    assert bob.valid_until == dt_util.as_utc(
        dt_util.parse_datetime(FAR_FUTURE).replace(tzinfo=dt_util.get_default_time_zone())
    )
    assert (bob.max_entries, bob.entries_left) == (3, 3)


@pytest.mark.parametrize(
    ("data", "errors", "placeholders"),
    [
        (
            {"plate": "AYO9034", "name": "Bob"},
            {"plate": "duplicate_plate"},
            {"plate": "AYO9034", "name": "Alice", "category": "resident"},
        ),
        (
            {"plate": "A?", "name": "Bob"},
            {"plate": "invalid_plate"},
            {
                "plate": "A?",
                "error": "pattern 'A?' has 1 literal character(s); a wildcard pattern needs at "
                "least 3 so that it cannot match almost every car",
            },
        ),
        (
            {"plate": "AYO903?", "name": "Bob", "category": "blocked"},
            {"plate": "blocks_registered"},
            {"plate": "AYO903?", "other": "AYO9034", "name": "Alice", "category": "resident"},
        ),
        ({"plate": "XYZ9876", "name": " "}, {"name": "empty_name"}, {}),
        (
            {"plate": "XYZ9876", "name": "Bob", "valid_until": FAR_FUTURE},
            {"category": "pass_needs_visitor"},
            {},
        ),
        (
            {"plate": "XYZ9876", "name": "Bob", "category": "visitor", "max_entries": 2},
            {"valid_until": "pass_needs_end"},
            {},
        ),
    ],
)
async def test_add_plate_errors(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    registry: PlateRegistry,
    *,
    data: dict[str, Any],
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> None:
    registry.async_add("AYO9034", "Alice")
    result = await open_menu(hass, entry, "add_plate")
    result = await submit(hass, result, data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert result["description_placeholders"] == placeholders
    assert suggested(result)["plate"] == data["plate"]  # what was typed stays
    result = await submit(hass, result, {"plate": "NEW1234", "name": "Nina"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert sorted(registry.plates) == ["AYO9034", "NEW1234"]


async def test_edit_plate(
    hass: HomeAssistant, entry: MockConfigEntry, registry: PlateRegistry
) -> None:
    registry.async_add("AYO9034", "Alice")
    registry.async_set_pass(
        "XYZ9876",
        "Bob",
        start=dt_util.parse_datetime("2098-12-31T18:00:00+00:00"),
        end=dt_util.parse_datetime("2099-01-01T18:00:00+00:00"),
        max_entries=2,
    )
    result = await open_menu(hass, entry, "edit_plate")
    assert result["step_id"] == "edit_plate"
    labels = result["data_schema"].schema["plate"].config["options"]
    assert labels == [
        {"value": "AYO9034", "label": "AYO9034: Alice (resident)"},
        {"value": "XYZ9876", "label": "XYZ9876: Bob (visitor)"},
    ]
    result = await submit(hass, result, {"plate": "XYZ9876"})
    assert result["step_id"] == "plate_settings"
    assert result["description_placeholders"] == {"entry": "XYZ9876"}
    assert suggested(result) == {
        "plate": "XYZ9876",
        "name": "Bob",
        "category": "visitor",
        "notes": None,
        "valid_from": "2098-12-31 10:00:00",  # the home's time zone (US/Pacific in tests)
        "valid_until": "2099-01-01 10:00:00",
        "entries_left": 2,
    }

    # Renaming onto another registered plate is refused, with the reason.
    result = await submit(hass, result, {"plate": "AYO9034", "name": "Bob", "category": "visitor"})
    assert result["errors"] == {"plate": "duplicate_plate"}
    assert result["description_placeholders"] == {
        "entry": "XYZ9876",
        "plate": "AYO9034",
        "name": "Alice",
        "category": "resident",
    }

    result = await submit(
        hass,
        result,
        {
            "plate": "XYZ 9877",
            "name": "Robert",
            "category": "visitor",
            "valid_until": FAR_FUTURE,
            "entries_left": 5,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert sorted(registry.plates) == ["AYO9034", "XYZ9877"]
    robert = registry.plates["XYZ9877"]
    assert (robert.name, robert.valid_from, robert.entries_left) == ("Robert", None, 5)


async def test_edit_a_plate_removed_meanwhile(
    hass: HomeAssistant, entry: MockConfigEntry, registry: PlateRegistry
) -> None:
    registry.async_add("AYO9034", "Alice")
    result = await open_menu(hass, entry, "edit_plate")
    registry.async_remove("AYO9034")
    result = await submit(hass, result, {"plate": "AYO9034"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "plate_gone"


async def test_remove_plates(
    hass: HomeAssistant, entry: MockConfigEntry, registry: PlateRegistry
) -> None:
    for plate, name in (("AYO9034", "Alice"), ("XYZ9876", "Bob"), ("BAD6666", "Mallory")):
        registry.async_add(plate, name)
    result = await open_menu(hass, entry, "remove_plate")
    assert result["step_id"] == "remove_plate"
    registry.async_remove("BAD6666")  # removed meanwhile: nothing to do for it
    result = await submit(hass, result, {"plates": ["AYO9034", "BAD6666"]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert list(registry.plates) == ["XYZ9876"]


async def test_list_plates(
    hass: HomeAssistant, entry: MockConfigEntry, registry: PlateRegistry
) -> None:
    registry.async_add("FLEET*", "Acme", notes="vans")
    registry.async_add("GR4NDMA", "Grandma", Category.VISITOR)
    result = await open_menu(hass, entry, "list_plates")
    assert result["step_id"] == "list_plates"
    assert result["description_placeholders"] == {
        "plates": "- **FLEET***: Acme (resident) - vans\n"
        "- **GR4NDMA**: Grandma (visitor, has no visitor pass)",
    }
    # Read-only: a menu of what to do next (no form with a Submit button), or back.
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["add_plate", "edit_plate", "remove_plate", "init"]
    result = await submit(hass, result, {"next_step_id": "init"})
    assert (result["type"], result["step_id"]) == (FlowResultType.MENU, "init")
    result = await open_menu(hass, entry, "list_plates")
    result = await submit(hass, result, {"next_step_id": "edit_plate"})
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "edit_plate")


async def test_unreadable_registry_aborts(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    key = f"{DOMAIN}.registry.{entry.entry_id}"
    hass_storage[key] = {"version": 9, "key": key, "data": {"plates": []}}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "registry_unreadable"


async def test_adding_a_plate_does_not_reload_a_loaded_entry(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    watcher = loaded_entry.runtime_data.watchers[CAMERA]
    result = await open_menu(hass, loaded_entry, "add_plate")
    result = await submit(hass, result, {"plate": "AYO9034", "name": "Alice"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert loaded_entry.runtime_data.watchers[CAMERA] is watcher
    assert "AYO9034" in loaded_entry.runtime_data.registry.plates
    response = await hass.services.async_call(
        DOMAIN, "scan", {"entity_id": CAMERA}, blocking=True, return_response=True
    )
    assert response["plates"][0]["category"] == "resident"


# --- a camera's gate, the history settings ------------------------------------------------


async def test_camera_gate(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await open_menu(hass, entry, "add_camera")
    gate_key = next(key for key in result["data_schema"].schema if key == CONF_GATE)
    selector = result["data_schema"].schema[gate_key]
    assert selector.config["domain"] == ["cover", "switch", "button", "lock"]
    result = await submit(hass, result, {CONF_CAMERA: "camera.gate", **form(gate="cover.gate")})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_CAMERAS]["camera.gate"][CONF_GATE] == "cover.gate"
    assert CONF_GATE not in entry.options[CONF_CAMERAS][CAMERA]

    result = await open_menu(hass, entry, "edit_camera")
    result = await submit(hass, result, {CONF_CAMERA: "camera.gate"})
    assert suggested(result)[CONF_GATE] == "cover.gate"
    result = await submit(hass, result, form())  # the gate cleared
    assert CONF_GATE not in entry.options[CONF_CAMERAS]["camera.gate"]


async def test_history_settings(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await open_menu(hass, entry, "settings")
    defaults = {str(key): key.default() for key in result["data_schema"].schema}
    assert defaults[CONF_HISTORY_SIZE] == 1000
    assert defaults[CONF_RETENTION_RESIDENT] == defaults[CONF_RETENTION_VISITOR] == 30
    assert defaults[CONF_RETENTION_UNKNOWN] == 7
    assert defaults[CONF_RETENTION_BLOCKED] == 90
    result = await submit(
        hass,
        result,
        {
            CONF_REQUEST_TIMEOUT: 10,
            CONF_DEFAULT_REGION: "eu",
            CONF_HISTORY_SIZE: 50,
            CONF_RETENTION_RESIDENT: 14,
            CONF_RETENTION_VISITOR: 3,
            CONF_RETENTION_UNKNOWN: 1,
            CONF_RETENTION_BLOCKED: 365,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_HISTORY_SIZE] == 50
    assert entry.options[CONF_RETENTION_UNKNOWN] == 1
    assert entry.options[CONF_RETENTION_BLOCKED] == 365
    result = await open_menu(hass, entry, "settings")
    defaults = {str(key): key.default() for key in result["data_schema"].schema}
    assert defaults[CONF_RETENTION_VISITOR] == 3


def test_registry_errors_have_form_texts() -> None:
    """Every registry error can be shown on a form as well as raised by an action."""
    strings = json.loads((PACKAGE / "translations" / "en.json").read_text(encoding="utf-8"))
    source = (PACKAGE / "registry.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'translation_key="([a-z_]+)"', source)) - {"registry_too_new"}
    assert keys
    assert keys <= set(strings["options"]["error"])
    assert keys <= set(strings["exceptions"])
