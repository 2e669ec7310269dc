"""Connectivity of the inference service.

Recognition is pushed by the camera watchers (see `watcher.py`); this coordinator only polls
`/v1/health` so Home Assistant knows whether the service is there. Every entity follows it:
when the service is down they become unavailable, and the coordinator logs the outage once
and the recovery once. Each check also feeds the entry's outage tracker (`issues.py`), which
raises a repair issue when the service stays unreachable and deletes it when it answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    AnprAuthenticationError,
    AnprClient,
    AnprConnectionError,
    AnprError,
    Health,
)
from .const import DOMAIN, HEALTH_INTERVAL, LOGGER

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

    from .issues import ServiceOutage


class AnprHealthCoordinator(DataUpdateCoordinator[Health]):
    """Polls the service's health (and, when it needs one, whether our key still works)."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: AnprClient,
        outage: ServiceOutage,
    ) -> None:
        """Poll `client` every 30 seconds for `entry`; tell `outage` how each check went."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"anpr {entry.title}",
            update_interval=HEALTH_INTERVAL,
        )
        self.client = client
        self.outage = outage

    async def _async_update_data(self) -> Health:
        """Fetch the health document; a rejected key starts re-authentication.

        A rejected key ends an outage too: the service answered, and re-authentication is
        what the user has to fix now.
        """
        try:
            health = await self.client.health()
            if health.auth_required:
                await self.client.check_auth()
        except AnprAuthenticationError as err:
            self.outage.async_recovered()
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except AnprConnectionError as err:
            self.outage.async_failed(str(err))
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"url": self.client.url, "error": str(err)},
            ) from err
        except AnprError as err:
            self.outage.async_failed(str(err))
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="unexpected_response",
                translation_placeholders={"url": self.client.url, "error": str(err)},
            ) from err
        self.outage.async_recovered()
        return health
