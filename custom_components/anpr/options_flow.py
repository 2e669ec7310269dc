"""The options flow: its menu, watched cameras and the entry's general settings.

The plate registry's steps are in `options_plates.py`, other plate sources' in
`options_sources.py`; `AnprOptionsFlow` combines them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from .const import (
    CONF_CAMERA,
    CONF_CAMERAS,
    CONF_DASHBOARD_CARD,
    CONF_DEFAULT_REGION,
    CONF_GATE,
    CONF_HISTORY_SIZE,
    CONF_REGION,
    CONF_REQUEST_TIMEOUT,
    DEFAULT_HISTORY_SIZE,
    DEFAULT_REQUEST_TIMEOUT,
    MAX_HISTORY_SIZE,
    REGION_NONE,
)
from .entity import camera_name
from .flow_common import (
    CAMERA_SETTINGS,
    DAYS,
    REGION,
    camera_errors,
    camera_options,
    seconds,
)
from .options_plates import PlateSteps
from .options_sources import SourceSteps
from .settings import HISTORY_DEFAULTS

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlowResult


class AnprOptionsFlow(PlateSteps, SourceSteps):
    """Watched cameras, the plate registry, other plate sources, and general settings."""

    _camera: str

    @property
    def _cameras(self) -> dict[str, dict[str, Any]]:
        return {
            entity_id: dict(camera)
            for entity_id, camera in self.config_entry.options.get(CONF_CAMERAS, {}).items()
        }

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer what can be changed."""
        menu = ["add_camera"]
        if self._cameras:
            menu += ["edit_camera", "remove_camera"]
        menu.append("add_plate")
        if (await self._async_registry()).plates:
            menu += ["edit_plate", "remove_plate", "list_plates"]
        menu += ["sources", "settings"]
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
            errors = camera_errors(user_input)
            if not errors:
                cameras[user_input[CONF_CAMERA]] = camera_options(user_input)
                return self._save(**{CONF_CAMERAS: cameras})
        default_region = self.config_entry.options.get(CONF_DEFAULT_REGION) or REGION_NONE
        schema = vol.Schema(
            {
                vol.Required(CONF_CAMERA): EntitySelector(
                    EntitySelectorConfig(domain="camera", exclude_entities=list(cameras))
                )
            }
        ).extend(CAMERA_SETTINGS.schema)
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
            errors = camera_errors(user_input)
            if not errors:
                cameras[self._camera] = camera_options(user_input)
                return self._save(**{CONF_CAMERAS: cameras})
        current = user_input or {
            **cameras[self._camera],
            CONF_REGION: cameras[self._camera].get(CONF_REGION) or REGION_NONE,
            CONF_GATE: cameras[self._camera].get(CONF_GATE),
        }
        return self.async_show_form(
            step_id="camera_settings",
            data_schema=self.add_suggested_values_to_schema(CAMERA_SETTINGS, current),
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
                    **{key: user_input[key] for key in HISTORY_DEFAULTS},
                    CONF_REQUEST_TIMEOUT: user_input[CONF_REQUEST_TIMEOUT],
                    CONF_DEFAULT_REGION: None if default_region == REGION_NONE else default_region,
                    CONF_DASHBOARD_CARD: user_input[CONF_DASHBOARD_CARD],
                }
            )
        options = self.config_entry.options
        schema: dict[vol.Marker, Any] = {
            vol.Required(
                CONF_REQUEST_TIMEOUT,
                default=options.get(CONF_REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT),
            ): vol.All(seconds(300, minimum=1), vol.Coerce(int)),
            vol.Required(
                CONF_DEFAULT_REGION,
                default=options.get(CONF_DEFAULT_REGION) or REGION_NONE,
            ): REGION,
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
        for key, default in HISTORY_DEFAULTS.items():
            if key == CONF_HISTORY_SIZE:
                continue
            schema[vol.Required(key, default=options.get(key, default))] = vol.All(
                DAYS, vol.Coerce(int)
            )
        schema[
            vol.Required(CONF_DASHBOARD_CARD, default=options.get(CONF_DASHBOARD_CARD, True))
        ] = BooleanSelector()
        return self.async_show_form(step_id="settings", data_schema=vol.Schema(schema))

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
