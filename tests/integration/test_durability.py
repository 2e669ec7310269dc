"""No loss: the plate registry, visitor passes and history survive restarts, even mid-write.

Home Assistant's test plugin keeps every `Store` in memory (`hass_storage`). These tests put
the real file I/O back, in a temporary configuration folder, so a write can really be broken
half-way (a power cut: half a temporary file on disk, no rename) and a restart really reads
the files.
"""

from __future__ import annotations

from datetime import timedelta
import errno
from typing import IO, TYPE_CHECKING, Any
from unittest.mock import NonCallableMock, patch

import atomicwrites
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.helpers import issue_registry as ir, storage
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.anpr.const import DOMAIN, EVENT_PLATE_DETECTED
from custom_components.anpr.history import DATA_HISTORIES
from custom_components.anpr.registry import DATA_REGISTRIES, async_get_registry

if TYPE_CHECKING:
    from collections.abc import Generator
    from pathlib import Path

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .fakes import FakeAnprService

# Taken when the module is imported, before any test mocks them.
_REAL_STORE = {
    name: getattr(storage.Store, name)
    for name in ("_async_load", "_async_write_data", "async_remove")
}


@pytest.fixture
def storage_dir(hass: HomeAssistant, tmp_path: Path) -> Generator[Path]:
    """Give the test real stores in a temporary configuration folder; return `.storage`."""
    assert not any(isinstance(method, NonCallableMock) for method in _REAL_STORE.values())
    hass.config.config_dir = str(tmp_path)
    with patch.multiple(storage.Store, **_REAL_STORE):
        yield tmp_path / ".storage"


def crash_half_way(_writer: atomicwrites.AtomicWriter, file: IO[bytes]) -> None:
    """Replace `AtomicWriter.sync`: only half the new document reaches the disk, then it dies."""
    file.flush()
    file.truncate(file.tell() // 2)
    raise OSError(errno.EIO, "power lost half-way through the write")


def power_cut() -> Any:
    """Break every store write half-way, leaving the half-written temporary file behind."""
    return patch.multiple(
        atomicwrites.AtomicWriter, sync=crash_half_way, rollback=lambda _writer, _file: None
    )


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def read(hass: HomeAssistant, path: Path) -> bytes:
    return await hass.async_add_executor_job(path.read_bytes)


async def listing(hass: HomeAssistant, folder: Path) -> set[str]:
    return {path.name for path in await hass.async_add_executor_job(lambda: list(folder.iterdir()))}


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the entry, forget everything it kept in memory, and set it up again."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.data[DATA_REGISTRIES].clear()
    hass.data[DATA_HISTORIES].clear()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def call(hass: HomeAssistant, service: str, **data: Any) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)


async def test_registry_survives_a_crash_half_way_through_a_write(
    hass: HomeAssistant, storage_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entry_id = "01JDURABILITY"
    path = storage_dir / f"{DOMAIN}.registry.{entry_id}"
    registry = await async_get_registry(hass, entry_id)
    now = dt_util.utcnow()
    registry.async_add("AB12CDE", "Alice")
    registry.async_set_pass("XY98ZZZ", "Bob", start=now, end=now + timedelta(days=1), max_entries=2)
    await registry._store._async_handle_write_data()
    before = await read(hass, path)
    saved = dict(registry.plates)

    # The next write is cut short: a visitor's entry counted, a plate added.
    used = registry.async_use_entry("XY98ZZZ", now)
    assert used is not None
    assert used.entries_left == 1
    registry.async_add("GR4NDMA", "Grandma")
    with power_cut():
        await registry._store._async_handle_write_data()
    assert "Error writing config for anpr.registry.01JDURABILITY" in caplog.text
    # The registry file was never touched; the half-written temporary file lies beside it.
    assert await read(hass, path) == before
    (leftover,) = await listing(hass, storage_dir) - {path.name}
    assert 0 < len(await read(hass, storage_dir / leftover)) < len(before)

    # Restart: the registry as last saved loads intact, the leftover is ignored.
    hass.data[DATA_REGISTRIES].clear()
    reloaded = await async_get_registry(hass, entry_id)
    assert reloaded.plates == saved
    assert reloaded.plates["XY98ZZZ"].entries_left == 2

    # And the next write works again.
    reloaded.async_add("GR4NDMA", "Grandma")
    await reloaded._store._async_handle_write_data()
    assert b"GR4NDMA" in await read(hass, path)


async def test_a_failed_rename_loses_nothing_already_saved(
    hass: HomeAssistant, storage_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entry_id = "01JDURABILITY"
    path = storage_dir / f"{DOMAIN}.registry.{entry_id}"
    registry = await async_get_registry(hass, entry_id)
    registry.async_add("AB12CDE", "Alice")
    await registry._store._async_handle_write_data()
    before = await read(hass, path)

    registry.async_add("GR4NDMA", "Grandma")
    with patch.object(
        atomicwrites, "_replace_atomic", side_effect=OSError(errno.ENOSPC, "No space left")
    ):
        await registry._store._async_handle_write_data()
    assert "No space left" in caplog.text
    assert await read(hass, path) == before
    assert await listing(hass, storage_dir) == {path.name}  # the temporary file is cleaned up

    # Still in memory: the next change writes both.
    registry.async_add("XY98ZZZ", "Bob")
    await registry._store._async_handle_write_data()
    hass.data[DATA_REGISTRIES].clear()
    assert sorted((await async_get_registry(hass, entry_id)).plates) == [
        "AB12CDE",
        "GR4NDMA",
        "XY98ZZZ",
    ]


async def test_power_cut_while_home_assistant_stops(
    hass: HomeAssistant,
    *,
    storage_dir: Path,
    camera: str,
    anpr_service: FakeAnprService,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await call(hass, "add_plate", plate="AYO9034", name="Alice")
    await call(hass, "add_visitor_pass", plate="XYZ9876", name="Bob", duration={"hours": 24})
    await call(hass, "scan", **{ATTR_ENTITY_ID: camera})
    # Written a moment later (the registry after 1 s, the history after 30 s).
    await advance(hass, freezer, 31)
    registry_file = storage_dir / f"{DOMAIN}.registry.{config_entry.entry_id}"
    history_file = storage_dir / f"{DOMAIN}.history.{config_entry.entry_id}"
    registry_before = await read(hass, registry_file)
    history_before = await read(hass, history_file)

    # More happens, then Home Assistant stops and the power goes during the final write.
    await call(hass, "add_plate", plate="GR4NDMA", name="Grandma")
    anpr_service.default_recognition["plates"][0].update(
        text="XYZ9876", normalized="XYZ9876", char_confidences=[0.95] * 7
    )
    await call(hass, "scan", **{ATTR_ENTITY_ID: camera})
    assert len(config_entry.runtime_data.history.visits) == 2
    with power_cut():
        hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
        await hass.async_block_till_done()
    assert await read(hass, registry_file) == registry_before
    assert await read(hass, history_file) == history_before

    # Back on: the entry sets up with what was saved before, intact.
    await restart(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    data = config_entry.runtime_data
    assert sorted(data.registry.plates) == ["AYO9034", "XYZ9876"]
    assert data.registry.plates["XYZ9876"].valid_until is not None
    assert [visit.plate for visit in data.history.visits] == ["AYO9034"]
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_delayed_saves_are_written_when_home_assistant_stops(
    hass: HomeAssistant,
    storage_dir: Path,
    camera: str,
    config_entry: MockConfigEntry,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await call(hass, "add_visitor_pass", plate="AYO9034", name="Bob", duration={"hours": 24})
    await call(hass, "scan", **{ATTR_ENTITY_ID: camera})
    assert not await listing(hass, storage_dir) & {
        f"{DOMAIN}.registry.{config_entry.entry_id}",
        f"{DOMAIN}.history.{config_entry.entry_id}",
    }

    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()

    await restart(hass, config_entry)
    data = config_entry.runtime_data
    assert list(data.registry.plates) == ["AYO9034"]
    (visit,) = data.history.visits
    assert (visit.plate, visit.category, visit.access_granted) == ("AYO9034", "visitor", True)
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_a_corrupt_registry_fails_closed(
    hass: HomeAssistant,
    storage_dir: Path,
    camera: str,
    config_entry: MockConfigEntry,
) -> None:
    """A registry file that cannot be read (disk corruption) lets nobody in; nothing crashes."""
    registry_file = storage_dir / f"{DOMAIN}.registry.{config_entry.entry_id}"
    await hass.async_add_executor_job(lambda: storage_dir.mkdir(parents=True, exist_ok=True))
    await hass.async_add_executor_job(registry_file.write_bytes, b'{"version": 1, "data": {"pla')
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)

    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.registry.plates == {}
    await call(hass, "scan", **{ATTR_ENTITY_ID: camera})
    assert [(e.data["category"], e.data["access_granted"]) for e in events] == [("unknown", False)]
    # Home Assistant keeps the corrupt file for a restore and raises its own repair issue.
    assert any(
        name.startswith(f"{registry_file.name}.corrupt.")
        for name in await listing(hass, storage_dir)
    )
    assert any(
        issue.translation_key == "storage_corruption"
        for issue in ir.async_get(hass).issues.values()
    )
    await hass.config_entries.async_unload(config_entry.entry_id)
