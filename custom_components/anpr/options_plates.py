"""The options flow's plate registry steps: add, edit, remove and list registered plates.

The registry is not an option: it lives in its own store (`registry.py`) and these steps edit
that store directly, so adding a plate neither reloads the entry nor needs it to be loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.data_entry_flow import AbortFlow
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.selector import (
    DateTimeSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import LOGGER, REGISTERED_CATEGORIES, Category
from .flow_common import OptionsStepsBase
from .registry import PlateRegistry, RegisteredPlate, RegistryError, async_get_registry

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.config_entries import ConfigFlowResult

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


class PlateSteps(OptionsStepsBase):
    """The registry's steps of the options flow."""

    _plate: str

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
