"""ANPR: licence-plate recognition for Home Assistant.

Watches cameras, sends snapshots to the anpr inference service (the add-on or any host running
`anpr-inference`) and turns the plates it reads into entities, events and actions. Reads are
matched against the entry's plate registry (`registry.py`, `access.py`), each visit is kept in
the entry's history (`history.py`), and a camera's gate opens only through `gate.py`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from homeassistant.const import CONF_API_KEY, CONF_URL, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from .api import AnprClient
from .compat import async_get_device
from .const import DOMAIN, HOUSEKEEPING_INTERVAL
from .coordinator import AnprHealthCoordinator
from .entity import service_device_info, service_identifier
from .frontend import async_setup_frontend, async_update_card
from .gate import GateController, GateDeps
from .history import async_get_history, async_remove_history
from .issues import (
    async_check_cameras,
    async_check_registry,
    async_clear_issues,
    async_get_outage,
    async_remove_outage,
    async_remove_registry_issue,
)
from .registry import async_get_registry, async_remove_registry
from .runtime import AnprConfigEntry, AnprData
from .services import async_setup_services
from .settings import EntrySettings
from .sources.report import async_setup_report_action
from .sources.setup import async_build_sources, async_start_sources
from .views import VisitPictureView
from .watcher import CameraWatcher, WatcherDeps
from .websocket import async_setup_websocket

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Coroutine
    from datetime import datetime
    from typing import Any

    from homeassistant.helpers.typing import ConfigType

    from .sources.gate import SourceGate

__all__ = ["AnprConfigEntry", "AnprData"]

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, the card's API and the card itself, once for all entries."""
    async_setup_services(hass)
    async_setup_websocket(hass)
    hass.http.register_view(VisitPictureView())
    await async_setup_frontend(hass)
    async_setup_report_action(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AnprConfigEntry) -> bool:
    """Connect to the service, then start watching the configured cameras."""
    settings = EntrySettings.from_options(entry.options)
    async_update_card(hass)  # its option may have changed (a change reloads the entry)
    # The registry and history outlive a reload (the options flow edits the registry even
    # while the entry is not loaded); load them before anything can classify a read.
    registry = await async_get_registry(hass, entry.entry_id)
    history = await async_get_history(hass, entry.entry_id)
    history.async_configure(settings.history)
    registry.async_purge(dt_util.utcnow())
    client = AnprClient(
        async_get_clientsession(hass),
        entry.data[CONF_URL],
        entry.data.get(CONF_API_KEY),
        request_timeout=settings.request_timeout,
    )
    coordinator = AnprHealthCoordinator(hass, entry, client, async_get_outage(hass, entry))
    # Raises ConfigEntryNotReady when the service is unreachable (HA retries with backoff)
    # and ConfigEntryAuthFailed when the key is rejected (HA starts re-authentication).
    await coordinator.async_config_entry_first_refresh()

    @callback
    def _async_start_reauth() -> None:
        entry.async_start_reauth(hass)

    def _create_task(target: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        return entry.async_create_background_task(hass, target, name=name)

    watcher_deps = WatcherDeps(
        entry_id=entry.entry_id,
        client=client,
        registry=registry,
        health=coordinator,
        start_reauth=_async_start_reauth,
        create_task=_create_task,
    )
    gate_deps = GateDeps(
        entry_id=entry.entry_id, registry=registry, history=history, health=coordinator
    )
    watchers = {
        entity_id: CameraWatcher(hass, camera, watcher_deps)
        for entity_id, camera in settings.cameras.items()
    }
    gates: dict[str, GateController | SourceGate] = {
        entity_id: GateController(hass, watcher, gate_deps)
        for entity_id, watcher in watchers.items()
    }
    sources, source_gates = async_build_sources(hass, entry.entry_id, settings.sources, gate_deps)
    entry.runtime_data = AnprData(
        client=client,
        coordinator=coordinator,
        settings=settings,
        registry=registry,
        history=history,
        watchers=watchers,
        gates={**gates, **source_gates},
        sources=sources,
    )
    await _async_start(hass, entry)
    return True


async def _async_start(hass: HomeAssistant, entry: AnprConfigEntry) -> None:
    """Set up the devices and platforms, then start the watchers and the housekeeping."""
    data = entry.runtime_data
    registry, history, watchers = data.registry, data.history, data.watchers
    _async_update_devices(hass, entry)

    @callback
    def _async_coordinator_updated() -> None:
        _async_update_service(hass, entry)

    entry.async_on_unload(data.coordinator.async_add_listener(_async_coordinator_updated))

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)

    @callback
    def _async_registry_changed() -> None:
        async_check_registry(hass, entry.entry_id, entry.title, registry.conflicts())

    _async_registry_changed()
    entry.async_on_unload(registry.async_add_listener(_async_registry_changed))

    start_task = partial(entry.async_create_background_task, hass)
    entry.async_on_unload(
        async_start_sources(hass, entry.entry_id, data.sources, history, start_task)
    )
    for watcher in watchers.values():
        entry.async_on_unload(watcher.async_add_visit_listener(history.async_record))
        watcher.async_start()
        entry.async_on_unload(watcher.async_stop)

    @callback
    def _async_housekeeping(now: datetime) -> None:
        registry.async_purge(now)
        history.async_purge(now)

    entry.async_on_unload(
        async_track_time_interval(
            hass,
            _async_housekeeping,
            HOUSEKEEPING_INTERVAL,
            name=f"anpr housekeeping {entry.title}",
            cancel_on_shutdown=True,
        )
    )

    @callback
    def _async_started(hass: HomeAssistant) -> None:
        async_check_cameras(hass, entry, watchers)

    @callback
    def _async_clear_issues() -> None:
        async_clear_issues(hass, entry, watchers)

    entry.async_on_unload(async_at_started(hass, _async_started))
    entry.async_on_unload(_async_clear_issues)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))


async def async_unload_entry(hass: HomeAssistant, entry: AnprConfigEntry) -> bool:
    """Stop watching and unload the entities."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: AnprConfigEntry) -> None:
    """Delete the entry's plate registry and visit history with it."""
    async_remove_outage(hass, entry.entry_id)
    async_remove_registry_issue(hass, entry.entry_id)
    await async_remove_registry(hass, entry.entry_id)
    await async_remove_history(hass, entry.entry_id)


async def _async_options_updated(hass: HomeAssistant, entry: AnprConfigEntry) -> None:
    """Reload when the options changed (flows that change data reload by themselves)."""
    if EntrySettings.from_options(entry.options) != entry.runtime_data.settings:
        await hass.config_entries.async_reload(entry.entry_id)


@callback
def _async_update_devices(hass: HomeAssistant, entry: AnprConfigEntry) -> None:
    """Register the service's device and drop devices of cameras no longer watched."""
    registry = dr.async_get(hass)
    registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        **service_device_info(entry, entry.runtime_data.coordinator.data.version),
    )
    data = entry.runtime_data
    keep = {(DOMAIN, service_identifier(entry))} | {
        watcher.device_identifier for watcher in data.all_sources()
    }
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not device.identifiers & keep:
            registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)


@callback
def _async_update_service(hass: HomeAssistant, entry: AnprConfigEntry) -> None:
    """Keep the service device's software version current (the add-on gets updated)."""
    health = entry.runtime_data.coordinator.data
    registry = dr.async_get(hass)
    device = async_get_device(registry, (DOMAIN, service_identifier(entry)), entry.entry_id)
    if device is not None and health is not None and device.sw_version != health.version:
        registry.async_update_device(device.id, sw_version=health.version)
