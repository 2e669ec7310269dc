"""Config flow of the anpr integration: connect to a service, then choose cameras in options.

Every way of reaching a service (typed URL, add-on discovery, re-authentication,
reconfiguration) is validated against `GET /v1/health` before anything is stored, and the
service's stable `instance_id` is the entry's unique id, so one service is configured once.

The options flow also manages the entry's plate registry. The registry is not an option: it
lives in its own store (`registry.py`) and the plate steps edit that store directly, so adding
a plate neither reloads the entry nor needs it to be loaded.
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
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    DateTimeSelector,
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
from homeassistant.util import dt as dt_util
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
    CONF_GATE,
    CONF_HISTORY_SIZE,
    CONF_HOLD_TIME,
    CONF_MIN_CONFIDENCE,
    CONF_REGION,
    CONF_REQUEST_TIMEOUT,
    CONF_SCAN_INTERVAL,
    CONF_TRIGGERS,
    DEFAULT_BURST_FRAMES,
    DEFAULT_BURST_INTERVAL,
    DEFAULT_COOLDOWN,
    DEFAULT_HISTORY_SIZE,
    DEFAULT_HOLD_TIME,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_BURST_FRAMES,
    MAX_HISTORY_SIZE,
    MAX_RETENTION_DAYS,
    MIN_SCAN_INTERVAL,
    REGION_NONE,
    REGISTERED_CATEGORIES,
    Category,
)
from .entity import camera_name
from .gate import GATE_ACTIONS
from .registry import PlateRegistry, RegisteredPlate, RegistryError, async_get_registry
from .settings import HISTORY_DEFAULTS as _HISTORY_DEFAULTS

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

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
        vol.Optional(CONF_GATE): EntitySelector(EntitySelectorConfig(domain=list(GATE_ACTIONS))),
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
    options = {
        str(key): user_input[str(key)] for key in _CAMERA_SETTINGS.schema if str(key) in user_input
    }
    options[CONF_TRIGGERS] = list(user_input[CONF_TRIGGERS])
    if options[CONF_REGION] == REGION_NONE:
        del options[CONF_REGION]
    if not options.get(CONF_GATE):
        options.pop(CONF_GATE, None)
    return options


_DAYS = NumberSelector(
    NumberSelectorConfig(
        min=1, max=MAX_RETENTION_DAYS, step=1, unit_of_measurement="d", mode=NumberSelectorMode.BOX
    )
)

# Fields of the plate forms.
CONF_PLATE = "plate"
CONF_PLATES = "plates"
CONF_NAME = "name"
CONF_CATEGORY = "category"
CONF_NOTES = "notes"
CONF_VALID_FROM = "valid_from"
CONF_VALID_UNTIL = "valid_until"
CONF_MAX_ENTRIES = "max_entries"
CONF_ENTRIES_LEFT = "entries_left"

_TEXT = TextSelector()
_PLATE_FIELDS: dict[vol.Marker, Any] = {
    vol.Required(CONF_PLATE): _TEXT,
    vol.Required(CONF_NAME): _TEXT,
    vol.Required(CONF_CATEGORY, default=Category.RESIDENT.value): SelectSelector(
        SelectSelectorConfig(
            options=[category.value for category in REGISTERED_CATEGORIES],
            translation_key="category",
            mode=SelectSelectorMode.LIST,
        )
    ),
    vol.Optional(CONF_NOTES): TextSelector(TextSelectorConfig(multiline=True)),
    vol.Optional(CONF_VALID_FROM): DateTimeSelector(),
    vol.Optional(CONF_VALID_UNTIL): DateTimeSelector(),
}
_ADD_PLATE_SCHEMA = vol.Schema(
    {
        **_PLATE_FIELDS,
        vol.Optional(CONF_MAX_ENTRIES): vol.All(
            NumberSelector(
                NumberSelectorConfig(min=1, max=10000, step=1, mode=NumberSelectorMode.BOX)
            ),
            vol.Coerce(int),
        ),
    }
)
_EDIT_PLATE_SCHEMA = vol.Schema(
    {
        **_PLATE_FIELDS,
        vol.Optional(CONF_ENTRIES_LEFT): vol.All(
            NumberSelector(
                NumberSelectorConfig(min=0, max=10000, step=1, mode=NumberSelectorMode.BOX)
            ),
            vol.Coerce(int),
        ),
    }
)


def _parse_local(value: str | None) -> datetime | None:
    """Turn a date-time selector's value (the home's local time) into UTC."""
    return dt_util.as_utc(cv.datetime(value)) if value else None


def _local_text(value: datetime | None) -> str | None:
    """Show a stored time in a date-time selector (the home's local time)."""
    return None if value is None else dt_util.as_local(value).strftime("%Y-%m-%d %H:%M:%S")


def _plate_form_values(entry: RegisteredPlate) -> dict[str, Any]:
    """Prefill the edit form with a registry entry."""
    return {
        CONF_PLATE: entry.plate,
        CONF_NAME: entry.name,
        CONF_CATEGORY: entry.category.value,
        CONF_NOTES: entry.notes,
        CONF_VALID_FROM: _local_text(entry.valid_from),
        CONF_VALID_UNTIL: _local_text(entry.valid_until),
        CONF_ENTRIES_LEFT: entry.entries_left,
    }


def _form_error(err: RegistryError, schema: vol.Schema) -> tuple[dict[str, str], dict[str, str]]:
    """Turn a registry error into the form's errors and the placeholders its text needs."""
    field = err.field if err.field in {str(key) for key in schema.schema} else "base"
    assert err.translation_key is not None  # noqa: S101 - RegistryError always has one
    return {field: err.translation_key}, dict(err.translation_placeholders or {})


def _plate_selector(registry: PlateRegistry, *, multiple: bool = False) -> SelectSelector:
    """Return a list of the registered plates, with owner and category."""
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(
                    value=entry.plate, label=f"{entry.plate}: {entry.name} ({entry.category})"
                )
                for entry in sorted(registry.plates.values(), key=lambda entry: entry.plate)
            ],
            multiple=multiple,
            mode=SelectSelectorMode.LIST if multiple else SelectSelectorMode.DROPDOWN,
        )
    )


class AnprOptionsFlow(OptionsFlow):
    """Watched cameras, the plate registry, and the entry's general settings."""

    _camera: str
    _plate: str

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
        menu.append("add_plate")
        if (await self._async_registry()).plates:
            menu += ["edit_plate", "remove_plate", "list_plates"]
        menu.append("settings")
        return self.async_show_menu(step_id="init", menu_options=menu)

    async def async_step_add_camera(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a camera and how to scan it."""
        cameras = self._cameras
        # The selector lists the cameras not watched yet; an empty one would only say "No
        # matching entities found".
        if not set(self.hass.states.async_entity_ids("camera")) - set(cameras):
            return self.async_abort(reason="all_cameras_watched" if cameras else "no_cameras")
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
            CONF_GATE: cameras[self._camera].get(CONF_GATE),
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
        """Change the settings of the whole entry: service, and how long history is kept."""
        if user_input is not None:
            default_region = user_input[CONF_DEFAULT_REGION]
            return self._save(
                **{
                    **{key: user_input[key] for key in _HISTORY_DEFAULTS},
                    CONF_REQUEST_TIMEOUT: user_input[CONF_REQUEST_TIMEOUT],
                    CONF_DEFAULT_REGION: None if default_region == REGION_NONE else default_region,
                }
            )
        options = self.config_entry.options
        schema: dict[vol.Marker, Any] = {
            vol.Required(
                CONF_REQUEST_TIMEOUT,
                default=options.get(CONF_REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT),
            ): vol.All(_seconds(300, minimum=1), vol.Coerce(int)),
            vol.Required(
                CONF_DEFAULT_REGION,
                default=options.get(CONF_DEFAULT_REGION) or REGION_NONE,
            ): _REGION,
            vol.Required(
                CONF_HISTORY_SIZE, default=options.get(CONF_HISTORY_SIZE, DEFAULT_HISTORY_SIZE)
            ): vol.All(
                NumberSelector(
                    NumberSelectorConfig(
                        min=1, max=MAX_HISTORY_SIZE, step=1, mode=NumberSelectorMode.BOX
                    )
                ),
                vol.Coerce(int),
            ),
        }
        for key, default in _HISTORY_DEFAULTS.items():
            if key == CONF_HISTORY_SIZE:
                continue
            schema[vol.Required(key, default=options.get(key, default))] = vol.All(
                _DAYS, vol.Coerce(int)
            )
        return self.async_show_form(step_id="settings", data_schema=vol.Schema(schema))

    # --- the plate registry -------------------------------------------------------------

    async def _async_registry(self) -> PlateRegistry:
        """Return the entry's registry (loaded or not), or abort if it cannot be read."""
        try:
            return await async_get_registry(self.hass, self.config_entry.entry_id)
        except HomeAssistantError as err:
            LOGGER.error("Cannot read the plate registry: %s", err)
            raise AbortFlow("registry_unreadable") from err

    def _registry_saved(self) -> ConfigFlowResult:
        """Finish after a registry change; the options (and so the entry) stay as they are."""
        return self.async_create_entry(data=dict(self.config_entry.options))

    async def async_step_add_plate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Register a plate or fleet pattern; a visitor may get a pass right away."""
        registry = await self._async_registry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            try:
                registry.async_add(
                    user_input[CONF_PLATE],
                    user_input[CONF_NAME],
                    Category(user_input[CONF_CATEGORY]),
                    user_input.get(CONF_NOTES),
                    valid_from=_parse_local(user_input.get(CONF_VALID_FROM)),
                    valid_until=_parse_local(user_input.get(CONF_VALID_UNTIL)),
                    max_entries=user_input.get(CONF_MAX_ENTRIES),
                )
            except RegistryError as err:
                errors, placeholders = _form_error(err, _ADD_PLATE_SCHEMA)
            else:
                return self._registry_saved()
        return self.async_show_form(
            step_id="add_plate",
            data_schema=self.add_suggested_values_to_schema(_ADD_PLATE_SCHEMA, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_edit_plate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the registered plate to change."""
        registry = await self._async_registry()
        if user_input is not None:
            self._plate = user_input[CONF_PLATE]
            return await self.async_step_plate_settings()
        return self.async_show_form(
            step_id="edit_plate",
            data_schema=vol.Schema({vol.Required(CONF_PLATE): _plate_selector(registry)}),
        )

    async def async_step_plate_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a registered plate: its text, owner, category, notes and pass."""
        registry = await self._async_registry()
        if self._plate not in registry.plates:  # removed meanwhile (by an action, say)
            return self.async_abort(reason="plate_gone")
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"entry": self._plate}
        if user_input is not None:
            try:
                registry.async_update(
                    self._plate,
                    new_plate=user_input[CONF_PLATE],
                    name=user_input[CONF_NAME],
                    category=Category(user_input[CONF_CATEGORY]),
                    notes=user_input.get(CONF_NOTES),
                    valid_from=_parse_local(user_input.get(CONF_VALID_FROM)),
                    valid_until=_parse_local(user_input.get(CONF_VALID_UNTIL)),
                    entries_left=user_input.get(CONF_ENTRIES_LEFT),
                )
            except RegistryError as err:
                errors, extra = _form_error(err, _EDIT_PLATE_SCHEMA)
                placeholders |= extra
            else:
                return self._registry_saved()
        current = user_input or _plate_form_values(registry.plates[self._plate])
        return self.async_show_form(
            step_id="plate_settings",
            data_schema=self.add_suggested_values_to_schema(_EDIT_PLATE_SCHEMA, current),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_remove_plate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Forget registered plates."""
        registry = await self._async_registry()
        if user_input is not None:
            for plate in user_input[CONF_PLATES]:
                if plate in registry.plates:
                    registry.async_remove(plate)
            return self._registry_saved()
        return self.async_show_form(
            step_id="remove_plate",
            data_schema=vol.Schema(
                {vol.Required(CONF_PLATES): _plate_selector(registry, multiple=True)}
            ),
        )

    async def async_step_list_plates(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the registry, read-only: a menu of what to do next, not a form to submit."""
        registry = await self._async_registry()
        now = dt_util.utcnow()
        lines = [
            f"- **{entry.plate}**: {entry.name} ({entry.category.value}"
            + (f", {entry.describe_pass(now)}" if entry.category is Category.VISITOR else "")
            + ")"
            + (f" - {entry.notes}" if entry.notes else "")
            for entry in sorted(registry.plates.values(), key=lambda entry: entry.plate)
        ]
        return self.async_show_menu(
            step_id="list_plates",
            menu_options=["add_plate", "edit_plate", "remove_plate", "init"],
            # The frontend fills no placeholders into a menu's title: the list says it all.
            description_placeholders={"plates": "\n".join(lines)},
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
