"""Setting up and unloading entries, reloads, devices, outages and repair issues."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.anpr.compat import async_get_device
from custom_components.anpr.const import (
    CONF_ADDON_SLUG,
    CONF_CAMERAS,
    CONF_HOLD_TIME,
    CONF_REQUEST_TIMEOUT,
    DOMAIN,
)

from .conftest import CAMERA, MOTION, camera_options
from .fakes import INSTANCE_ID, FakeAnprService, health_json

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory

LAST_PLATE = "sensor.driveway_last_plate"
CONNECTIVITY = "binary_sensor.anpr_127_0_0_1_connectivity"


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_setup_and_unload(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert hass.services.has_service(DOMAIN, "scan")
    watcher = loaded_entry.runtime_data.watchers[CAMERA]

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    # The action stays registered (it explains that the entry is not loaded).
    assert hass.services.has_service(DOMAIN, "scan")
    # Unloaded: triggers no longer scan.
    hass.states.async_set(MOTION, "on")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert watcher.last_scan is None


@pytest.mark.usefixtures("camera")
async def test_setup_service_down(
    hass: HomeAssistant, anpr_service: FakeAnprService, config_entry: MockConfigEntry
) -> None:
    anpr_service.down = True
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.usefixtures("camera")
async def test_setup_not_anpr(
    hass: HomeAssistant, anpr_service: FakeAnprService, config_entry: MockConfigEntry
) -> None:
    anpr_service.health = {**health_json(), "service": "something-else"}
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.usefixtures("camera")
async def test_setup_key_rejected_starts_reauth(
    hass: HomeAssistant, anpr_service: FakeAnprService, config_entry: MockConfigEntry
) -> None:
    anpr_service.api_key = "rotated-key-456"
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == config_entry.entry_id


async def test_options_change_reloads(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    old_watcher = loaded_entry.runtime_data.watchers[CAMERA]
    options: dict[str, Any] = {
        CONF_CAMERAS: {CAMERA: camera_options(**{CONF_HOLD_TIME: 5})},
        CONF_REQUEST_TIMEOUT: 5,
    }
    hass.config_entries.async_update_entry(loaded_entry, options=options)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    watcher = loaded_entry.runtime_data.watchers[CAMERA]
    assert watcher is not old_watcher
    assert watcher.settings.hold_time == 5

    # Changing only the title (not the options) does not reload.
    hass.config_entries.async_update_entry(loaded_entry, title="Renamed")
    await hass.async_block_till_done()
    assert loaded_entry.runtime_data.watchers[CAMERA] is watcher


async def test_removed_camera_loses_its_device(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    devices = dr.async_get(hass)
    identifier = (DOMAIN, f"{loaded_entry.entry_id}_{CAMERA}")
    assert async_get_device(devices, identifier, loaded_entry.entry_id) is not None

    hass.config_entries.async_update_entry(loaded_entry, options={CONF_CAMERAS: {}})
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert async_get_device(devices, identifier, loaded_entry.entry_id) is None
    assert async_get_device(devices, (DOMAIN, INSTANCE_ID), loaded_entry.entry_id) is not None
    assert hass.states.get(LAST_PLATE) is None or (
        hass.states.get(LAST_PLATE).state == STATE_UNAVAILABLE
    )


async def test_service_down_and_back(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert hass.states.get(LAST_PLATE).state != STATE_UNAVAILABLE
    anpr_service.down = True
    await advance(hass, freezer, 31)
    assert hass.states.get(LAST_PLATE).state == STATE_UNAVAILABLE
    # The connectivity sensor reports the outage instead of going unavailable itself.
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF
    await advance(hass, freezer, 31)
    assert caplog.text.count("Error fetching anpr") == 1  # logged once, not every poll

    anpr_service.down = False
    await advance(hass, freezer, 31)
    assert hass.states.get(LAST_PLATE).state != STATE_UNAVAILABLE
    assert hass.states.get(CONNECTIVITY).state == STATE_ON
    assert caplog.text.count("recovered") == 1


async def test_key_rejected_later_starts_reauth(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    freezer: FrozenDateTimeFactory,
) -> None:
    anpr_service.api_key = "rotated-key-456"
    await advance(hass, freezer, 31)
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert hass.states.get(LAST_PLATE).state == STATE_UNAVAILABLE


async def test_service_version_follows_updates(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    freezer: FrozenDateTimeFactory,
) -> None:
    anpr_service.health = health_json(version="0.2.0")
    await advance(hass, freezer, 31)
    device = async_get_device(dr.async_get(hass), (DOMAIN, INSTANCE_ID), loaded_entry.entry_id)
    assert device is not None
    assert device.sw_version == "0.2.0"


@pytest.mark.parametrize("cameras_options", [{"camera.gone": camera_options()}])
@pytest.mark.usefixtures("camera")
async def test_missing_camera_issue(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    issues = ir.async_get(hass)
    issue_id = f"missing_camera_{config_entry.entry_id}_camera.gone"
    hass.set_state(CoreState.starting)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None  # not before HA has started

    await hass.async_start()
    await hass.async_block_till_done()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "missing_camera"
    assert issue.translation_placeholders == {
        "camera": "camera.gone",
        "entry": config_entry.title,
    }

    # Fixed by removing it from the options (the entry reloads without it).
    hass.config_entries.async_update_entry(config_entry, options={CONF_CAMERAS: {}})
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.usefixtures("loaded_entry")
async def test_present_camera_has_no_issue(hass: HomeAssistant) -> None:
    assert not [i for i in ir.async_get(hass).issues.values() if i.domain == DOMAIN]


@pytest.mark.usefixtures("camera")
async def test_service_without_key(
    hass: HomeAssistant, anpr_service: FakeAnprService, config_entry: MockConfigEntry
) -> None:
    anpr_service.api_key = None
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        data={**config_entry.data, CONF_API_KEY: None, CONF_ADDON_SLUG: "abcd1234_anpr"},
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # Without a key there is nothing to check beyond health.
    assert [r.path for r in anpr_service.requests] == ["/v1/health"]
    device = async_get_device(dr.async_get(hass), (DOMAIN, INSTANCE_ID), config_entry.entry_id)
    assert device is not None
    # An add-on's device links to the add-on's page.
    assert device.configuration_url == "homeassistant://hassio/addon/abcd1234_anpr/info"
    await hass.config_entries.async_unload(config_entry.entry_id)
