"""Config flow of the anpr integration: connect to a service, then choose cameras in options.

Every way of reaching a service (typed URL, add-on discovery, re-authentication,
reconfiguration) is validated against `GET /v1/health` before anything is stored, and the
service's stable `instance_id` is the entry's unique id, so one service is configured once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol
from yarl import URL

from .api import (
    REGIONS,
    AnprAuthenticationError,
    AnprClient,
    AnprConnectionError,
    AnprError,
    Health,
)
from .const import (
    CONF_ADDON_SLUG,
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
    DEFAULT_BURST_FRAMES,
    DEFAULT_BURST_INTERVAL,
    DEFAULT_COOLDOWN,
    DEFAULT_HOLD_TIME,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_BURST_FRAMES,
    MIN_SCAN_INTERVAL,
    REGION_NONE,
)
from .entity import camera_name

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.helpers.service_info.hassio import HassioServiceInfo

    from .coordinator import AnprConfigEntry

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off"))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL, autocomplete="off"))


def normalize_url(raw: str) -> str | None:
    """Return the service's base URL from what the user typed, or None if it is no URL.

    `192.168.1.5` becomes `http://192.168.1.5:8756` (the service's default port); a URL with a
    scheme is taken as typed, without a trailing slash.
    """
    text = raw.strip()
    bare = "://" not in text
    try:
        url = URL(f"http://{text}" if bare else text)
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host:
        return None
    if bare and url.explicit_port is None:
        url = url.with_port(DEFAULT_PORT)
    return str(url).rstrip("/")


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
                user_input,
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
        """Change the service's URL or API key; it must still be the same service."""
        errors: dict[str, str] = {}
        entry = self._get_reconfigure_entry()
        if user_input is not None:
            api_key = user_input.get(CONF_API_KEY) or None
            if (url := normalize_url(user_input[CONF_URL])) is None:
                errors[CONF_URL] = "invalid_url"
            else:
                health, errors = await self._async_validate(url, api_key)
                if health is not None:
                    await self.async_set_unique_id(health.instance_id)
                    self._abort_if_unique_id_mismatch(reason="wrong_service")
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
                user_input or dict(entry.data),
            ),
            errors=errors,
        )


def _seconds(maximum: float, step: float = 1, minimum: float = 0) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement="s",
            mode=NumberSelectorMode.BOX,
        )
    )


_REGION = SelectSelector(
    SelectSelectorConfig(
        options=[REGION_NONE, *REGIONS],
        translation_key="region",
        mode=SelectSelectorMode.DROPDOWN,
    )
)

_CAMERA_SETTINGS = vol.Schema(
    {
        vol.Optional(CONF_TRIGGERS, default=[]): EntitySelector(
            EntitySelectorConfig(multiple=True)
        ),
        vol.Required(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): vol.All(
            _seconds(86400), vol.Coerce(int)
        ),
        vol.Required(CONF_BURST_FRAMES, default=DEFAULT_BURST_FRAMES): vol.All(
            NumberSelector(
                NumberSelectorConfig(
                    min=1, max=MAX_BURST_FRAMES, step=1, mode=NumberSelectorMode.SLIDER
                )
            ),
            vol.Coerce(int),
        ),
        vol.Required(CONF_BURST_INTERVAL, default=DEFAULT_BURST_INTERVAL): vol.All(
            _seconds(10, 0.1), vol.Coerce(float)
        ),
        vol.Required(CONF_REGION, default=REGION_NONE): _REGION,
        vol.Required(CONF_MIN_CONFIDENCE, default=DEFAULT_MIN_CONFIDENCE): vol.All(
            NumberSelector(
                NumberSelectorConfig(min=0, max=1, step=0.05, mode=NumberSelectorMode.SLIDER)
            ),
            vol.Coerce(float),
        ),
        vol.Required(CONF_HOLD_TIME, default=DEFAULT_HOLD_TIME): vol.All(
            _seconds(86400, minimum=1), vol.Coerce(int)
        ),
        vol.Required(CONF_COOLDOWN, default=DEFAULT_COOLDOWN): vol.All(
            _seconds(86400), vol.Coerce(int)
        ),
    }
)


def _camera_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Check a camera's settings beyond what the schema can express."""
    interval = user_input[CONF_SCAN_INTERVAL]
    if not user_input[CONF_TRIGGERS] and not interval:
        return {"base": "no_trigger"}
    if 0 < interval < MIN_SCAN_INTERVAL:
        return {CONF_SCAN_INTERVAL: "interval_too_short"}
    return {}


def _camera_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Turn the form's answers into a camera's stored options."""
    options = {str(key): user_input[str(key)] for key in _CAMERA_SETTINGS.schema}
    options[CONF_TRIGGERS] = list(user_input[CONF_TRIGGERS])
    if options[CONF_REGION] == REGION_NONE:
        del options[CONF_REGION]
    return options


class AnprOptionsFlow(OptionsFlow):
    """Add, edit and remove watched cameras, and the entry's general settings."""

    _camera: str

    @property
    def _cameras(self) -> dict[str, dict[str, Any]]:
        return {
            entity_id: dict(camera)
            for entity_id, camera in self.config_entry.options.get(CONF_CAMERAS, {}).items()
        }

    def _save(self, **changes: Any) -> ConfigFlowResult:
        return self.async_create_entry(data={**self.config_entry.options, **changes})

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer what can be changed."""
        menu = ["add_camera"]
        if self._cameras:
            menu += ["edit_camera", "remove_camera"]
        menu.append("settings")
        return self.async_show_menu(step_id="init", menu_options=menu)

    async def async_step_add_camera(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a camera and how to scan it."""
        cameras = self._cameras
        errors: dict[str, str] = {}
        if user_input is not None:
            # The selector excludes watched cameras, so a camera is never added twice.
            errors = _camera_errors(user_input)
            if not errors:
                cameras[user_input[CONF_CAMERA]] = _camera_options(user_input)
                return self._save(**{CONF_CAMERAS: cameras})
        default_region = self.config_entry.options.get(CONF_DEFAULT_REGION) or REGION_NONE
        schema = vol.Schema(
            {
                vol.Required(CONF_CAMERA): EntitySelector(
                    EntitySelectorConfig(domain="camera", exclude_entities=list(cameras))
                )
            }
        ).extend(_CAMERA_SETTINGS.schema)
        return self.async_show_form(
            step_id="add_camera",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {CONF_REGION: default_region}
            ),
            errors=errors,
        )

    async def async_step_edit_camera(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the watched camera to change."""
        if user_input is not None:
            self._camera = user_input[CONF_CAMERA]
            return await self.async_step_camera_settings()
        return self.async_show_form(
            step_id="edit_camera",
            data_schema=vol.Schema({vol.Required(CONF_CAMERA): self._camera_selector()}),
        )

    async def async_step_camera_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change how the picked camera is scanned."""
        cameras = self._cameras
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _camera_errors(user_input)
            if not errors:
                cameras[self._camera] = _camera_options(user_input)
                return self._save(**{CONF_CAMERAS: cameras})
        current = user_input or {
            **cameras[self._camera],
            CONF_REGION: cameras[self._camera].get(CONF_REGION) or REGION_NONE,
        }
        return self.async_show_form(
            step_id="camera_settings",
            data_schema=self.add_suggested_values_to_schema(_CAMERA_SETTINGS, current),
            description_placeholders={"camera": camera_name(self.hass, self._camera)},
            errors=errors,
        )

    async def async_step_remove_camera(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Stop watching cameras; their entities and devices go away."""
        cameras = self._cameras
        if user_input is not None:
            for camera in user_input[CONF_CAMERAS]:
                cameras.pop(camera, None)
            return self._save(**{CONF_CAMERAS: cameras})
        return self.async_show_form(
            step_id="remove_camera",
            data_schema=vol.Schema(
                {vol.Required(CONF_CAMERAS): self._camera_selector(multiple=True)}
            ),
        )

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the settings of the whole entry."""
        if user_input is not None:
            default_region = user_input[CONF_DEFAULT_REGION]
            return self._save(
                **{
                    CONF_REQUEST_TIMEOUT: user_input[CONF_REQUEST_TIMEOUT],
                    CONF_DEFAULT_REGION: None if default_region == REGION_NONE else default_region,
                }
            )
        options = self.config_entry.options
        return self.async_show_form(
            step_id="settings",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_REQUEST_TIMEOUT,
                        default=options.get(CONF_REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT),
                    ): vol.All(_seconds(300, minimum=1), vol.Coerce(int)),
                    vol.Required(
                        CONF_DEFAULT_REGION,
                        default=options.get(CONF_DEFAULT_REGION) or REGION_NONE,
                    ): _REGION,
                }
            ),
        )

    def _camera_selector(self, *, multiple: bool = False) -> SelectSelector:
        """Return a list of the watched cameras, by name."""
        return SelectSelector(
            SelectSelectorConfig(
                options=[
                    SelectOptionDict(value=camera, label=camera_name(self.hass, camera))
                    for camera in self._cameras
                ],
                multiple=multiple,
                mode=SelectSelectorMode.LIST if multiple else SelectSelectorMode.DROPDOWN,
            )
        )
