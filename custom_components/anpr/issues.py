"""Repair issues: a watched camera that no longer exists, and a sustained service outage.

The log says when a camera fails or the service cannot be reached, but a repair issue is where
a homeowner looks. Both issues clear themselves once the cause is gone.

Missing camera
    A camera that was removed or renamed keeps failing its scans. The issue is raised once Home
    Assistant has started (cameras of other integrations may load after this one) and cleared
    when the camera is back or the entry is unloaded.

Service unavailable
    Short outages are normal (the add-on restarting after an update, a Wi-Fi blip) and already
    show: entities go unavailable and the connectivity sensor turns off. An outage nobody
    notices is the one that leaves the gate shut at 3 a.m., so when every health check has
    failed for `OUTAGE_ISSUE_AFTER`, an error issue says what to check. Health checks run every
    `HEALTH_INTERVAL` while the entry is loaded, and at each setup retry while Home Assistant
    waits for the service (after a reboot the add-on may never come up), so the outage is
    tracked per entry in `hass.data`, across those retries. The first answer from the service
    ends the outage and deletes the issue; so does unloading the entry (an outage is only
    counted while the entry is trying to reach the service).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
from yarl import URL

from .const import DOMAIN, LOGGER

if TYPE_CHECKING:
    from collections.abc import Iterable

OUTAGE_ISSUE_AFTER: Final = timedelta(minutes=15)
"""How long every health check must have failed before the outage becomes a repair issue.

Thirty polls at the 30-second health interval: longer than an add-on update or a router
reboot, short enough that the household hears of it the same evening.
"""

DATA_OUTAGES: HassKey[dict[str, ServiceOutage]] = HassKey(f"{DOMAIN}_outages")


def _issue_id(entry: ConfigEntry, camera: str) -> str:
    return f"missing_camera_{entry.entry_id}_{camera}"


def _outage_issue_id(entry_id: str) -> str:
    return f"service_unavailable_{entry_id}"


def _address(url: str) -> str:
    """Return the host and port of `url`, such as `192.168.1.20:8756`."""
    parsed = URL(url)
    return f"{parsed.host}:{parsed.port}"


@callback
def async_check_cameras(hass: HomeAssistant, entry: ConfigEntry, cameras: Iterable[str]) -> None:
    """Raise an issue for each of the entry's `cameras` that does not exist, clear the others."""
    registry = er.async_get(hass)
    for camera in cameras:
        if hass.states.get(camera) is None and registry.async_get(camera) is None:
            ir.async_create_issue(
                hass,
                DOMAIN,
                _issue_id(entry, camera),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="missing_camera",
                translation_placeholders={"camera": camera, "entry": entry.title},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, _issue_id(entry, camera))


@callback
def async_clear_issues(hass: HomeAssistant, entry: ConfigEntry, cameras: Iterable[str]) -> None:
    """Remove the issues of the entry's `cameras` (it is unloading; a reload checks again)."""
    for camera in cameras:
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry, camera))


class ServiceOutage:
    """How long one entry's service has been unreachable, and its repair issue."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Track the outages of `entry` (one tracker per entry, for the entry's lifetime).

        It needs the entry itself, not its runtime data: its title and URL for the issue, and
        its state, since the outage outlives failed setups (no runtime data yet) but not an
        unload.
        """
        self.hass = hass
        self.entry = entry
        self.since: datetime | None = None
        """When the current outage began (its first failed health check); None when up."""
        # Not `async_on_unload`: those callbacks also run when a setup attempt fails, and
        # the outage must outlive the retries. An unloaded entry is no longer trying.
        entry.async_on_state_change(self._async_entry_state_changed)

    @property
    def issue_id(self) -> str:
        """The repair issue's id."""
        return _outage_issue_id(self.entry.entry_id)

    @callback
    def async_failed(self, error: str) -> None:
        """Note a failed health check; raise the issue once the outage has lasted long enough."""
        now = dt_util.utcnow()
        if self.since is None:
            self.since = now
        if now - self.since < OUTAGE_ISSUE_AFTER:
            return
        if ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id) is None:
            LOGGER.error(
                "The ANPR inference service of %s has been unreachable since %s: %s",
                self.entry.title,
                self.since.isoformat(),
                error,
            )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="service_unavailable",
            translation_placeholders={
                # The title names the service by address: the entry's title ("ANPR
                # (192.168.1.20)", an add-on's name) would repeat "ANPR" in it.
                "service": _address(self.entry.data[CONF_URL]),
                "entry": self.entry.title,
                "url": self.entry.data[CONF_URL],
                "since": dt_util.as_local(self.since).strftime("%Y-%m-%d %H:%M"),
                "error": error,
            },
        )

    @callback
    def async_recovered(self) -> None:
        """End the outage, if any: the service answered (or the entry stopped trying)."""
        self.since = None
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)

    @callback
    def _async_entry_state_changed(self) -> None:
        if self.entry.state is ConfigEntryState.NOT_LOADED:
            self.async_recovered()


@callback
def async_get_outage(hass: HomeAssistant, entry: ConfigEntry) -> ServiceOutage:
    """Return the outage tracker of `entry`, created on first use."""
    outages = hass.data.setdefault(DATA_OUTAGES, {})
    if (outage := outages.get(entry.entry_id)) is None:
        outage = outages[entry.entry_id] = ServiceOutage(hass, entry)
    return outage


@callback
def async_remove_outage(hass: HomeAssistant, entry_id: str) -> None:
    """Forget a removed entry's outage and delete its issue."""
    hass.data.setdefault(DATA_OUTAGES, {}).pop(entry_id, None)
    ir.async_delete_issue(hass, DOMAIN, _outage_issue_id(entry_id))
