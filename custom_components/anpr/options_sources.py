"""The options flow's steps for plate sources other than watched cameras.

Three kinds (`sources/settings.py`): an entity whose state is a plate, a Frigate camera heard
over MQTT, an action source fed by `anpr.report_plate`. Each form asks for what identifies the
source, then the visit settings a watched camera has, and whether the source may open the gate
(off by default for entities and actions; the form says why).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
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

from .const import (
    CONF_CONFIDENCE_ATTRIBUTE,
    CONF_COOLDOWN,
    CONF_FRIGATE_CAMERA,
    CONF_FRIGATE_URL,
    CONF_GATE,
    CONF_HOLD_TIME,
    CONF_MIN_CONFIDENCE,
    CONF_OPEN_GATE,
    CONF_PLATE_ATTRIBUTE,
    CONF_SOURCE,
    CONF_SOURCE_ENTITY,
    CONF_SOURCE_KIND,
    CONF_SOURCE_NAME,
    CONF_SOURCES,
    CONF_TOPIC_PREFIX,
    DEFAULT_COOLDOWN,
    DEFAULT_HOLD_TIME,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_TOPIC_PREFIX,
)
from .flow_common import COOLDOWN, GATE, HOLD_TIME, MIN_CONFIDENCE, OptionsStepsBase
from .sources.settings import OPEN_GATE_DEFAULT, SourceKind, SourceSettings, source_id

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.config_entries import ConfigFlowResult

_TEXT = TextSelector()
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_FRIGATE_CAMERA = re.compile(r"[A-Za-z0-9_-]+")
"""Frigate's camera names: letters, digits, `_` and `-` (its config validates the same)."""

_NAME = re.compile(r"[^\W_]")
"""An action source's name needs a letter or digit (its id is the name's slug)."""

_KEY_FIELD = {
    SourceKind.ENTITY: CONF_SOURCE_ENTITY,
    SourceKind.FRIGATE: CONF_FRIGATE_CAMERA,
    SourceKind.ACTION: CONF_SOURCE_NAME,
}
"""The field that identifies a source of each kind; it cannot be changed once added."""


def _kind_fields(kind: SourceKind) -> dict[vol.Marker, Any]:
    """Return the fields of a kind beyond what identifies the source."""
    if kind is SourceKind.ENTITY:
        return {
            vol.Optional(CONF_PLATE_ATTRIBUTE): _TEXT,
            vol.Optional(CONF_CONFIDENCE_ATTRIBUTE): _TEXT,
        }
    if kind is SourceKind.FRIGATE:
        return {
            vol.Optional(CONF_FRIGATE_URL): _URL,
            vol.Required(CONF_TOPIC_PREFIX, default=DEFAULT_TOPIC_PREFIX): _TEXT,
        }
    return {}


def _visit_fields(kind: SourceKind) -> dict[vol.Marker, Any]:
    """Return the fields every source shares with a camera, and its permission to open."""
    return {
        vol.Required(CONF_MIN_CONFIDENCE, default=DEFAULT_MIN_CONFIDENCE): MIN_CONFIDENCE,
        vol.Required(CONF_HOLD_TIME, default=DEFAULT_HOLD_TIME): HOLD_TIME,
        vol.Required(CONF_COOLDOWN, default=DEFAULT_COOLDOWN): COOLDOWN,
        vol.Optional(CONF_GATE): GATE,
        vol.Required(CONF_OPEN_GATE, default=OPEN_GATE_DEFAULT[kind]): BooleanSelector(),
    }


def _errors(kind: SourceKind, user_input: Mapping[str, Any]) -> dict[str, str]:
    """Check what the schema cannot: names, the Frigate address and topic."""
    name = user_input.get(CONF_SOURCE_NAME)
    if kind is SourceKind.ACTION and name is not None and not _NAME.search(name):
        return {CONF_SOURCE_NAME: "invalid_source_name"}
    if kind is not SourceKind.FRIGATE:
        return {}
    if CONF_FRIGATE_CAMERA in user_input and not _FRIGATE_CAMERA.fullmatch(
        user_input[CONF_FRIGATE_CAMERA].strip()
    ):
        return {CONF_FRIGATE_CAMERA: "invalid_frigate_camera"}
    if (url := user_input.get(CONF_FRIGATE_URL)) and frigate_url(url) is None:
        return {CONF_FRIGATE_URL: "invalid_url"}
    prefix = user_input[CONF_TOPIC_PREFIX].strip().strip("/")
    if not prefix or any(char in prefix for char in "+#"):
        return {CONF_TOPIC_PREFIX: "invalid_topic"}
    return {}


def frigate_url(raw: str) -> str | None:
    """Return Frigate's base URL as typed (http or https, with a host), or None."""
    try:
        url = URL(raw.strip())
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host:
        return None
    return str(url).rstrip("/")


def _stored(kind: SourceKind, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a source form's answers into the source's stored options."""
    options: dict[str, Any] = {CONF_SOURCE_KIND: kind.value}
    for key, value in user_input.items():
        if isinstance(value, str):
            value = value.strip()  # noqa: PLW2901 - the same answer, trimmed
        if value not in ("", None):
            options[key] = value
    if kind is SourceKind.FRIGATE:
        options[CONF_TOPIC_PREFIX] = options[CONF_TOPIC_PREFIX].strip("/")
        if url := options.get(CONF_FRIGATE_URL):
            options[CONF_FRIGATE_URL] = frigate_url(url)
    return options


class SourceSteps(OptionsStepsBase):
    """The plate sources' steps of the options flow."""

    _source: str

    @property
    def _sources(self) -> dict[str, dict[str, Any]]:
        return {
            key: dict(source)
            for key, source in self.config_entry.options.get(CONF_SOURCES, {}).items()
        }

    async def async_step_sources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer what can be done with plate sources."""
        menu = ["add_entity_source", "add_frigate_source", "add_action_source"]
        if self._sources:
            menu += ["edit_source", "remove_source"]
        return self.async_show_menu(step_id="sources", menu_options=[*menu, "init"])

    async def async_step_add_entity_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Read plates from an entity's state (a sensor or event entity of another reader)."""
        return self._async_add(SourceKind.ENTITY, "add_entity_source", user_input)

    async def async_step_add_frigate_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hear one Frigate camera's plates on Frigate's MQTT topics."""
        if not self.hass.config_entries.async_entries("mqtt"):
            return self.async_abort(reason="mqtt_not_configured")
        return self._async_add(SourceKind.FRIGATE, "add_frigate_source", user_input)

    async def async_step_add_action_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name a source that automations feed with `anpr.report_plate`."""
        return self._async_add(SourceKind.ACTION, "add_action_source", user_input)

    def _async_add(
        self, kind: SourceKind, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Show or take one kind's form; a source already configured is refused."""
        sources = self._sources
        errors: dict[str, str] = {}
        if user_input is not None:
            key = str(user_input[_KEY_FIELD[kind]]).strip()
            errors = _errors(kind, user_input)
            if not errors and source_id(kind, key) in sources:
                errors = {_KEY_FIELD[kind]: "source_exists"}
            if not errors:
                sources[source_id(kind, key)] = _stored(kind, user_input)
                return self._save(**{CONF_SOURCES: sources})
        key_field: dict[vol.Marker, Any] = {vol.Required(_KEY_FIELD[kind]): _TEXT}
        if kind is SourceKind.ENTITY:
            used = [source_id for source_id in sources if "." in source_id]
            key_field = {
                vol.Required(CONF_SOURCE_ENTITY): EntitySelector(
                    EntitySelectorConfig(exclude_entities=used)
                )
            }
        schema = vol.Schema({**key_field, **_kind_fields(kind), **_visit_fields(kind)})
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def async_step_edit_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the source to change."""
        if user_input is not None:
            self._source = user_input[CONF_SOURCE]
            return await self.async_step_source_settings()
        return self.async_show_form(
            step_id="edit_source",
            data_schema=vol.Schema({vol.Required(CONF_SOURCE): self._source_selector()}),
        )

    async def async_step_source_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a source's settings; what identifies it stays."""
        sources = self._sources
        current = sources[self._source]
        kind = SourceKind(current[CONF_SOURCE_KIND])
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _errors(kind, user_input)
            if not errors:
                key_field = _KEY_FIELD[kind]
                sources[self._source] = {
                    **_stored(kind, user_input),
                    key_field: current[key_field],
                }
                return self._save(**{CONF_SOURCES: sources})
        schema = vol.Schema({**_kind_fields(kind), **_visit_fields(kind)})
        return self.async_show_form(
            step_id="source_settings",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            description_placeholders={
                "source": SourceSettings.from_options(self._source, current).title
            },
            errors=errors,
        )

    async def async_step_remove_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Forget sources; their entities and devices go away."""
        sources = self._sources
        if user_input is not None:
            for source in user_input[CONF_SOURCES]:
                sources.pop(source, None)
            return self._save(**{CONF_SOURCES: sources})
        return self.async_show_form(
            step_id="remove_source",
            data_schema=vol.Schema(
                {vol.Required(CONF_SOURCES): self._source_selector(multiple=True)}
            ),
        )

    def _source_selector(self, *, multiple: bool = False) -> SelectSelector:
        """Return a list of the configured sources, by name."""
        return SelectSelector(
            SelectSelectorConfig(
                options=[
                    SelectOptionDict(
                        value=key, label=SourceSettings.from_options(key, source).title
                    )
                    for key, source in self._sources.items()
                ],
                multiple=multiple,
                mode=SelectSelectorMode.LIST if multiple else SelectSelectorMode.DROPDOWN,
            )
        )
