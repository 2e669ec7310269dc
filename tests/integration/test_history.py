"""Visit history: one record per visit, retention per category, persistence and export."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.anpr.const import (
    CONF_CAMERAS,
    CONF_GATE,
    CONF_HISTORY_SIZE,
    DOMAIN,
    HOUSEKEEPING_INTERVAL,
)
from custom_components.anpr.history import DATA_HISTORIES, FIELDS, SAVE_DELAY
from custom_components.anpr.registry import DATA_REGISTRIES, PASS_PURGE_AFTER

from .conftest import CAMERA, GATE, camera_options
from .fakes import FakeAnprService, plate_json, recognition_json

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """Start every test at the same moment."""
    freezer.move_to(NOW)
    return freezer


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give Home Assistant a temporary configuration folder (exports go there)."""
    hass.config.config_dir = str(tmp_path)
    return tmp_path


def history_key(entry: MockConfigEntry) -> str:
    return f"{DOMAIN}.history.{entry.entry_id}"


def visit(days_ago: float, category: str, plate: str = "AYO9034", **extra: Any) -> dict[str, Any]:
    """Return a stored visit record."""
    return {
        "time": (NOW - timedelta(days=days_ago)).isoformat(),
        "camera": CAMERA,
        "plate": plate,
        "confidence": 0.9,
        "category": category,
        "owner": None,
        "matched_plate": None,
        "access_granted": category == "resident",
        "reason": "r",
        "gate_opened": None,
        "forced": False,
        **extra,
    }


async def scan(hass: HomeAssistant) -> None:
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def export(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "export_history", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def test_one_record_per_visit_saved_after_a_delay(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    hass_storage: dict[str, Any],
    frozen: FrozenDateTimeFactory,
) -> None:
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": "AYO9034", "name": "Alice"}, blocking=True
    )
    await scan(hass)
    await advance(hass, frozen, timedelta(seconds=10))
    await scan(hass)  # the same visit: no new record
    anpr_service.default_recognition = recognition_json(plate_json("XYZ9876", 0.8))
    await scan(hass)

    visits = loaded_entry.runtime_data.history.visits
    assert [(v.plate, v.category, v.access_granted, v.owner) for v in visits] == [
        ("AYO9034", "resident", True, "Alice"),
        ("XYZ9876", "unknown", False, None),
    ]
    assert visits[0].time == NOW
    assert visits[0].reason == "Resident Alice (AYO9034), exact match: access granted"

    # Bursts of visits are written together, a while later.
    assert history_key(loaded_entry) not in hass_storage
    await advance(hass, frozen, timedelta(seconds=SAVE_DELAY + 1))
    stored = hass_storage[history_key(loaded_entry)]["data"]["visits"]
    assert [record["plate"] for record in stored] == ["AYO9034", "XYZ9876"]
    assert set(stored[0]) == set(FIELDS) - {"picture", "plate_picture"} | {"id", "snapshot", "crop"}

    # After a restart the history is still there.
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    hass.data[DATA_HISTORIES].clear()
    hass.data[DATA_REGISTRIES].clear()
    await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    reloaded = loaded_entry.runtime_data.history
    assert [v.plate for v in reloaded.visits] == ["AYO9034", "XYZ9876"]
    assert reloaded.visits[0].owner == "Alice"


@pytest.mark.parametrize(
    "cameras_options", [{CAMERA: camera_options(**{CONF_GATE: GATE})}], indirect=False
)
async def test_gate_openings_are_recorded(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    hass.states.async_set(GATE, "closed")
    async_mock_service(hass, "cover", "open_cover")
    await scan(hass)
    await hass.services.async_call(
        DOMAIN, "open_gate", {"camera": CAMERA, "force": True}, blocking=True
    )
    [record] = loaded_entry.runtime_data.history.visits
    assert record.gate_opened == NOW
    assert record.forced is True
    # A gate opened without a visit of this run has nothing to mark.
    loaded_entry.runtime_data.history.async_mark_gate_opened(CAMERA, 999, NOW, forced=True)


@pytest.mark.usefixtures("camera")
async def test_retention_per_category_on_load(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    hass_storage[history_key(config_entry)] = {
        "version": 1,
        "key": history_key(config_entry),
        "data": {
            "visits": [
                visit(31, "resident", "OLDRES1"),
                visit(29, "resident", "RES1"),
                visit(31, "visitor", "OLDVIS1"),
                visit(29, "visitor", "VIS1"),
                visit(8, "unknown", "OLDUNK1"),
                visit(6, "unknown", "UNK1"),
                visit(91, "blocked", "OLDBLK1"),
                visit(89, "blocked", "BLK1", gate_opened=NOW.isoformat(), forced=True),
                {"time": "yesterday", "camera": CAMERA},  # corrupt: dropped
                visit(1, "martian", "ALIEN1"),  # corrupt: dropped
            ]
        },
    }
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    visits = config_entry.runtime_data.history.visits
    assert [v.plate for v in visits] == ["BLK1", "RES1", "VIS1", "UNK1"]  # oldest first
    assert visits[0].gate_opened == NOW
    assert visits[0].forced is True
    await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.usefixtures("camera")
async def test_size_limit(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    anpr_service: FakeAnprService,
) -> None:
    hass_storage[history_key(config_entry)] = {
        "version": 1,
        "key": history_key(config_entry),
        "data": {
            "visits": [
                visit(3, "resident", "A1"),
                visit(2, "unknown", "B2"),
                visit(1, "unknown", "C3"),
            ]
        },
    }
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_HISTORY_SIZE: 2}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    history = config_entry.runtime_data.history
    assert [v.plate for v in history.visits] == ["B2", "C3"]

    anpr_service.default_recognition = recognition_json(plate_json("XYZ9876"))
    await scan(hass)
    assert [v.plate for v in history.visits] == ["C3", "XYZ9876"]
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_housekeeping_purges_history_and_expired_passes(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, frozen: FrozenDateTimeFactory
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {"plate": "GR4NDMA", "name": "Gran", "duration": {"hours": 1}},
        blocking=True,
    )
    await scan(hass)  # an unknown vehicle: kept 7 days
    history = loaded_entry.runtime_data.history
    registry = loaded_entry.runtime_data.registry
    assert len(history.visits) == 1

    await advance(hass, frozen, timedelta(days=6))
    await advance(hass, frozen, HOUSEKEEPING_INTERVAL)
    assert len(history.visits) == 1
    assert "GR4NDMA" in registry.plates

    await advance(hass, frozen, timedelta(days=1))
    await advance(hass, frozen, HOUSEKEEPING_INTERVAL)
    assert history.visits == []
    assert timedelta(days=7, hours=3) > PASS_PURGE_AFTER
    assert "GR4NDMA" not in registry.plates


# --- export --------------------------------------------------------------------------------


@pytest.mark.usefixtures("loaded_entry")
async def test_export_csv_and_json(
    hass: HomeAssistant, config_dir: Path, anpr_service: FakeAnprService
) -> None:
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": "AYO9034", "name": "Alice"}, blocking=True
    )
    await scan(hass)
    anpr_service.default_recognition = recognition_json(plate_json("XYZ9876", 0.8))
    await scan(hass)

    response = await export(hass, format="csv")
    path = Path(response["path"])
    assert response["visits"] == 2
    assert path.parent == config_dir / "anpr" / "exports"
    assert path.name == "anpr-history-anpr_127_0_0_1-20250601-050000.csv"
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(FIELDS)
    assert [(row["plate"], row["category"], row["access_granted"]) for row in rows] == [
        ("AYO9034", "resident", "True"),
        ("XYZ9876", "unknown", "False"),
    ]
    assert rows[0]["owner"] == "Alice"
    assert rows[0]["time"] == "2025-06-01T05:00:00-07:00"  # the home's time zone
    assert rows[1]["confidence"] == "0.8"

    response = await export(hass, format="json")
    path = Path(response["path"])
    assert path.suffix == ".json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["entry"] == "ANPR (127.0.0.1)"
    assert document["exported_at"] == "2025-06-01T05:00:00-07:00"
    assert [record["plate"] for record in document["visits"]] == ["AYO9034", "XYZ9876"]
    assert document["visits"][0]["access_granted"] is True
    assert document["visits"][1]["owner"] is None
    assert set(document["visits"][0]) == set(FIELDS)

    # An export in the same second never overwrites the previous one.
    again = Path((await export(hass, format="json"))["path"])
    assert again.name == "anpr-history-anpr_127_0_0_1-20250601-050000-2.json"
    assert path.exists()


@pytest.mark.usefixtures("config_dir")
async def test_export_of_an_entry_that_is_not_loaded(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await scan(hass)
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert (
        await hass.services.async_call(
            DOMAIN,
            "export_history",
            {"config_entry_id": loaded_entry.entry_id},
            blocking=True,
        )
        is None
    )
    [path] = (Path(hass.config.config_dir) / "anpr" / "exports").iterdir()
    assert path.suffix == ".csv"  # the default format
    assert "AYO9034" in path.read_text(encoding="utf-8")


@pytest.mark.usefixtures("loaded_entry")
async def test_export_failure_is_explained(hass: HomeAssistant, config_dir: Path) -> None:
    (config_dir / "anpr").write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(HomeAssistantError) as info:
        await export(hass, format="csv")
    assert info.value.translation_key == "export_failed"


@pytest.mark.usefixtures("camera")
async def test_removing_the_entry_removes_its_stores(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    loaded_entry = config_entry
    loaded_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": "AYO9034", "name": "Alice"}, blocking=True
    )
    await scan(hass)
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    registry_key = f"{DOMAIN}.registry.{loaded_entry.entry_id}"
    hass_storage[registry_key] = {"version": 1, "key": registry_key, "data": {"plates": []}}
    hass_storage[history_key(loaded_entry)] = {
        "version": 1,
        "key": history_key(loaded_entry),
        "data": {"visits": []},
    }
    assert await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert registry_key not in hass_storage
    assert history_key(loaded_entry) not in hass_storage
    assert loaded_entry.entry_id not in hass.data[DATA_REGISTRIES]
    assert loaded_entry.entry_id not in hass.data[DATA_HISTORIES]


@pytest.mark.usefixtures("camera")
async def test_entry_removed_without_stores(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """An entry whose stores were never loaded in this run is removed without trouble."""
    loaded_entry = config_entry
    loaded_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    hass.data[DATA_HISTORIES].clear()
    hass.data[DATA_REGISTRIES].clear()
    assert await hass.config_entries.async_remove(loaded_entry.entry_id)
    assert not hass.config_entries.async_entries(DOMAIN)
    assert CONF_CAMERAS in loaded_entry.options
