"""Config flow of the anpr integration: connect to a service, then choose cameras in options.

Every way of reaching a service (typed URL, add-on discovery, re-authentication,
reconfiguration) is validated against `GET /v1/health` before anything is stored, and the
service's stable `instance_id` is the entry's unique id, so one service is configured once.

The options flow (cameras, the plate registry, other plate sources, general settings) is in
`options_flow.py` and the modules it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType
import voluptuous as vol
from yarl import URL

from .api import (
    AnprAuthenticationError,
    AnprClient,
    AnprConnectionError,
    AnprError,
    Health,
)
from .const import CONF_ADDON_SLUG, DEFAULT_PORT, DOMAIN, LOGGER
from .options_flow import AnprOptionsFlow

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.helpers.service_info.hassio import HassioServiceInfo

    from .runtime import AnprConfigEntry

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off"))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL, autocomplete="off"))


def normalize_url(raw: str) -> str | None:
    """Return the service's base URL from what the user typed, or None if it is no URL.

    One rule for the port: an address without one gets the service's port, 8756, whether it
    was typed with `http://`, `https://` or bare (nobody serves this on port 80; a reverse
    proxy's port is written out). The result always carries its port, so normalising a stored
    URL again never changes it.
    """
    text = raw.strip()
    try:
        url = URL(text if "://" in text else f"http://{text}")
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host:
        return None
    if url.explicit_port is None:
        url = url.with_port(DEFAULT_PORT)
    return _written(url)


def _written(url: URL) -> str:
    """Write `url` with its port even where it is the scheme's default (yarl drops it)."""
    authority = url.with_port(url.port).raw_authority
    return f"{url.scheme}://{authority}{url.raw_path.rstrip('/')}"


def _suggested(user_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return what a form may show again: never the API key, which is not sent back."""
    return {key: value for key, value in (user_input or {}).items() if key != CONF_API_KEY}


class AnprConfigFlow(ConfigFlow, domain=DOMAIN):
    """Connect Home Assistant to an anpr inference service."""

    VERSION = 1
    MINOR_VERSION = 1

    _discovered: dict[str, Any]
    _addon_name: str

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: AnprConfigEntry) -> AnprOptionsFlow:
        """Choose and tune the cameras to watch."""
        return AnprOptionsFlow()

    async def _async_validate(
        self, url: str, api_key: str | None
    ) -> tuple[Health | None, dict[str, str]]:
        """Check that `url` is an anpr service that accepts `api_key`."""
        client = AnprClient(async_get_clientsession(self.hass), url, api_key)
        try:
            health = await client.health()
            if health.auth_required:
                await client.check_auth()
        except AnprAuthenticationError:
            return None, {"base": "invalid_auth"}
        except AnprConnectionError as err:
            LOGGER.debug("Cannot connect to %s: %s", url, err)
            return None, {"base": "cannot_connect"}
        except AnprError as err:
            LOGGER.debug("%s is not an anpr inference service: %s", url, err)
            return None, {"base": "not_anpr"}
        except Exception:  # noqa: BLE001 - the form must answer, whatever went wrong
            LOGGER.exception("Unexpected error while checking %s", url)
            return None, {"base": "unknown"}
        return health, {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the service's URL and API key."""
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input.get(CONF_API_KEY) or None
            if (url := normalize_url(user_input[CONF_URL])) is None:
                errors[CONF_URL] = "invalid_url"
            else:
                health, errors = await self._async_validate(url, api_key)
                if health is not None:
                    await self.async_set_unique_id(health.instance_id, raise_on_progress=False)
                    self._abort_if_unique_id_configured(
                        updates={CONF_URL: url, CONF_API_KEY: api_key}
                    )
                    return self.async_create_entry(
                        title=f"ANPR ({URL(url).host})",
                        data={CONF_URL: url, CONF_API_KEY: api_key},
                    )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_URL): _URL,
                        vol.Optional(CONF_API_KEY): _PASSWORD,
                    }
                ),
                _suggested(user_input),
            ),
            errors=errors,
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """Take the add-on's announcement from Supervisor."""
        config = discovery_info.config
        try:
            url = f"http://{config['host']}:{int(config['port'])}"
        except (KeyError, TypeError, ValueError):
            return self.async_abort(reason="not_anpr")
        api_key = config.get(CONF_API_KEY) or None
        health, errors = await self._async_validate(url, api_key)
        if health is None:
            return self.async_abort(reason=errors["base"])
        data = {CONF_URL: url, CONF_API_KEY: api_key, CONF_ADDON_SLUG: discovery_info.slug}
        await self.async_set_unique_id(health.instance_id)
        self._abort_if_unique_id_configured(updates=data)
        self._discovered = data
        self._addon_name = discovery_info.name
        self.context["title_placeholders"] = {"name": discovery_info.name}
        self.context["configuration_url"] = (
            f"homeassistant://hassio/addon/{discovery_info.slug}/info"
        )
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user confirm the discovered add-on; nothing to type."""
        if user_input is not None:
            return self.async_create_entry(title=self._addon_name, data=self._discovered)
        return self.async_show_form(
            step_id="hassio_confirm", description_placeholders={"addon": self._addon_name}
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask for a new key: the service rejected the stored one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new API key and check it."""
        errors: dict[str, str] = {}
        entry = self._get_reauth_entry()
        if user_input is not None:
            api_key = user_input.get(CONF_API_KEY) or None
            health, errors = await self._async_validate(entry.data[CONF_URL], api_key)
            if health is not None:
                await self.async_set_unique_id(health.instance_id)
                self._abort_if_unique_id_mismatch(reason="wrong_service")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_API_KEY: api_key}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Optional(CONF_API_KEY): _PASSWORD}),
            description_placeholders={"url": entry.data[CONF_URL]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the service's URL or API key; it must still be the same service.

        The stored key is never sent to the browser: an empty key field keeps it, unless the
        service no longer asks for a key; then the stored one is removed (the way to remove
        a key: turn it off on the service, then reconfigure).
        """
        errors: dict[str, str] = {}
        entry = self._get_reconfigure_entry()
        if user_input is not None:
            typed = user_input.get(CONF_API_KEY) or None
            api_key = typed or entry.data.get(CONF_API_KEY)
            if (url := normalize_url(user_input[CONF_URL])) is None:
                errors[CONF_URL] = "invalid_url"
            else:
                health, errors = await self._async_validate(url, api_key)
                if health is not None:
                    await self.async_set_unique_id(health.instance_id)
                    self._abort_if_unique_id_mismatch(reason="wrong_service")
                    if typed is None and not health.auth_required:
                        api_key = None
                    return self.async_update_reload_and_abort(
                        entry, data_updates={CONF_URL: url, CONF_API_KEY: api_key}
                    )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_URL): _URL,
                        vol.Optional(CONF_API_KEY): _PASSWORD,
                    }
                ),
                _suggested(user_input) or {CONF_URL: _written(URL(entry.data[CONF_URL]))},
            ),
            errors=errors,
        )
