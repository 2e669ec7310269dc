"""Each platform's entities as snapshots (syrupy with the harness's `snapshot_platform`).

As core's integrations do (`peblar` for one), the whole entity is compared against a stored
snapshot in `snapshots/test_snapshots.ambr`: its registry entry (name, translation key,
device class, category, unit, capabilities) and its state with every attribute. The tests
go only through public behaviour: the entry is set up with one platform, a visitor pass is
issued with the `anpr.add_visitor_pass` action and a motion trigger makes the real camera's
burst ask the fake service, so the snapshots do not depend on how the integration is split
into modules. `pytest --snapshot-update` rewrites the file after an intended change.

**Stable across Home Assistant releases.** Core regenerates its snapshots in the same commit
that changes the serialised objects; this integration is tested against two releases at once
(2025.4 here, 2026.10 in CI) from one snapshot file, and they serialise differently:

- Registry entries gained fields (2026: `object_id_base`; `aliases` written another way,
  `compat_aliases` dropped). The include filter keeps an allow-list of the registry fields
  this integration decides (`ENTRY_FIELDS`) and the state's own fields (`STATE_FIELDS`), so a
  field a later release adds is left out instead of failing every snapshot. Below the top
  level everything is kept (capabilities and state attributes are ours).
- 2026 keys some state attributes by `StrEnum` members (`CalendarEntityStateAttribute`) where
  2025 used strings, and amber writes and sorts the two differently. The matcher writes every
  enum as its value and every flag as its number (`stable_values`).
- The image's access token is random, so it is masked; the entry id is fixed (it is part of
  every unique id) and the clock frozen (timestamps are states).

Syrupy's amber output for these snapshots is the same with the two pinned versions (4.8.1
here, 6.1.1 with 2026.10): checked by serialising the recorded snapshot data with both.
"""

from __future__ import annotations

from enum import Enum, IntFlag
import re
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.const import Platform
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform

from custom_components.anpr.const import DOMAIN

from .conftest import MOTION

if TYPE_CHECKING:
    from collections.abc import Generator

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import entity_registry as er
    from syrupy.assertion import SnapshotAssertion
    from syrupy.types import PropertyPath

ENTRY_ID = "01JANPRSNAPSHOTENTRY000000"
"""A fixed entry id: it is part of every camera entity's unique id."""
NOW = "2026-05-01T10:00:00+00:00"

ENTRY_FIELDS = frozenset(
    {
        "capabilities",
        "device_class",
        "disabled_by",
        "entity_category",
        "entity_id",
        "has_entity_name",
        "hidden_by",
        "icon",
        "name",
        "original_device_class",
        "original_icon",
        "original_name",
        "platform",
        "supported_features",
        "translation_key",
        "unique_id",
        "unit_of_measurement",
    }
)
"""Registry fields the integration decides and every supported release has."""
STATE_FIELDS = frozenset({"attributes", "entity_id", "state"})
"""State fields worth comparing (the harness writes the timestamps and context as ANY)."""

_TOKEN = re.compile(r"token=[0-9a-f]+")
PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
]


def stable_fields(*, prop: str | int, path: PropertyPath) -> bool:
    """Keep the allow-listed fields at the top level, everything below it."""
    return bool(path) or prop in ENTRY_FIELDS or prop in STATE_FIELDS


def stable_values(*, data: Any, path: PropertyPath) -> Any:
    """Write enums as their values, and the image's random access token as a placeholder.

    Enums: 2026 keys state attributes by `StrEnum` members (`CalendarEntityStateAttribute`)
    where 2025 used plain strings, and amber writes the two differently (and sorts them
    differently); a member and its value mean the same to Home Assistant and to users. Flags
    (`supported_features`) are written as their number for the same reason.
    """
    if isinstance(data, dict) and any(isinstance(item, Enum) for item in (*data, *data.values())):
        return type(data)({_plain(key): _plain(value) for key, value in data.items()})
    name = path[-1][0] if path else None
    if name == "access_token":
        return "<token>"
    if name == "entity_picture" and isinstance(data, str):
        return _TOKEN.sub("token=<token>", data)
    return _plain(data)


def _plain(value: Any) -> Any:
    """Return an enum member's value (a flag's number), anything else as it is."""
    if isinstance(value, IntFlag):
        return int(value)
    return value.value if isinstance(value, Enum) else value


@pytest.fixture
def stable_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Return the snapshot fixture, limited to what every supported release writes alike."""
    return snapshot.with_defaults(include=stable_fields, matcher=stable_values)


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """Return the test entry again, with a fixed entry id."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=config_entry.title,
        unique_id=config_entry.unique_id,
        data=dict(config_entry.data),
        options=dict(config_entry.options),
        entry_id=ENTRY_ID,
    )


@pytest.fixture(params=PLATFORMS, ids=str)
def platform(request: pytest.FixtureRequest, freezer: FrozenDateTimeFactory) -> Generator[Platform]:
    """Load only one platform (as `snapshot_platform` requires), at a fixed time."""
    freezer.move_to(NOW)
    with patch("custom_components.anpr.PLATFORMS", [request.param]):
        yield request.param


async def motion(hass: HomeAssistant) -> None:
    """Motion at the driveway; wait for the burst it starts."""
    hass.states.async_set(MOTION, "on")
    await hass.async_block_till_done(wait_background_tasks=True)
    hass.states.async_set(MOTION, "off")
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_before_any_scan(
    hass: HomeAssistant,
    platform: Platform,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    stable_snapshot: SnapshotAssertion,
) -> None:
    """Each platform's entities as set up, before anything was read."""
    await snapshot_platform(hass, entity_registry, stable_snapshot, loaded_entry.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_after_a_visitor_is_read(
    hass: HomeAssistant,
    platform: Platform,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    stable_snapshot: SnapshotAssertion,
) -> None:
    """Each platform's entities after a visitor with a pass was read at the driveway."""
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {"plate": "AYO9034", "name": "Grandma", "duration": {"hours": 4}},
        blocking=True,
    )
    await motion(hass)
    await snapshot_platform(hass, entity_registry, stable_snapshot, loaded_entry.entry_id)
