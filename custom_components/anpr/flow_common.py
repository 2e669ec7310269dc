"""What the options flow's steps share: selectors, the camera form, and saving options.

The options flow is split by concern (`options_flow.py` cameras and general settings,
`options_plates.py` the plate registry, `options_sources.py` other plate sources); each part is
an `OptionsStepsBase` subclass, combined into one `AnprOptionsFlow`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from .api import REGIONS
from .const import (
    CONF_BURST_FRAMES,
    CONF_BURST_INTERVAL,
    CONF_COOLDOWN,
    CONF_GATE,
    CONF_HOLD_TIME,
    CONF_MIN_CONFIDENCE,
    CONF_REGION,
    CONF_SCAN_INTERVAL,
    CONF_TRIGGERS,
    DEFAULT_BURST_FRAMES,
    DEFAULT_BURST_INTERVAL,
    DEFAULT_COOLDOWN,
    DEFAULT_HOLD_TIME,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_SCAN_INTERVAL,
    MAX_BURST_FRAMES,
    MAX_RETENTION_DAYS,
    MIN_SCAN_INTERVAL,
    REGION_NONE,
)
from .gate import GATE_ACTIONS

if TYPE_CHECKING:
    from collections.abc import Mapping


class OptionsStepsBase(OptionsFlow):
    """Saving the entry's options, for every part of the options flow."""

    def _save(self, **changes: Any) -> ConfigFlowResult:
        return self.async_create_entry(data={**self.config_entry.options, **changes})


def seconds(maximum: float, step: float = 1, minimum: float = 0) -> NumberSelector:
    """Return a box for a number of seconds."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement="s",
            mode=NumberSelectorMode.BOX,
        )
    )


REGION = SelectSelector(
    SelectSelectorConfig(
        options=[REGION_NONE, *REGIONS],
        translation_key="region",
        mode=SelectSelectorMode.DROPDOWN,
    )
)

MIN_CONFIDENCE = vol.All(
    NumberSelector(NumberSelectorConfig(min=0, max=1, step=0.05, mode=NumberSelectorMode.SLIDER)),
    vol.Coerce(float),
)
HOLD_TIME = vol.All(seconds(86400, minimum=1), vol.Coerce(int))
COOLDOWN = vol.All(seconds(86400), vol.Coerce(int))
GATE = EntitySelector(EntitySelectorConfig(domain=list(GATE_ACTIONS)))

CAMERA_SETTINGS = vol.Schema(
    {
        vol.Optional(CONF_TRIGGERS, default=[]): EntitySelector(
            EntitySelectorConfig(multiple=True)
        ),
        vol.Required(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): vol.All(
            seconds(86400), vol.Coerce(int)
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
            seconds(10, 0.1), vol.Coerce(float)
        ),
        vol.Required(CONF_REGION, default=REGION_NONE): REGION,
        vol.Required(CONF_MIN_CONFIDENCE, default=DEFAULT_MIN_CONFIDENCE): MIN_CONFIDENCE,
        vol.Required(CONF_HOLD_TIME, default=DEFAULT_HOLD_TIME): HOLD_TIME,
        vol.Required(CONF_COOLDOWN, default=DEFAULT_COOLDOWN): COOLDOWN,
        vol.Optional(CONF_GATE): GATE,
    }
)


def camera_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Check a camera's settings beyond what the schema can express."""
    interval = user_input[CONF_SCAN_INTERVAL]
    if not user_input[CONF_TRIGGERS] and not interval:
        return {"base": "no_trigger"}
    if 0 < interval < MIN_SCAN_INTERVAL:
        return {CONF_SCAN_INTERVAL: "interval_too_short"}
    return {}


def camera_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Turn the form's answers into a camera's stored options."""
    options = {
        str(key): user_input[str(key)] for key in CAMERA_SETTINGS.schema if str(key) in user_input
    }
    options[CONF_TRIGGERS] = list(user_input[CONF_TRIGGERS])
    if options[CONF_REGION] == REGION_NONE:
        del options[CONF_REGION]
    if not options.get(CONF_GATE):
        options.pop(CONF_GATE, None)
    return options


DAYS = NumberSelector(
    NumberSelectorConfig(
        min=1, max=MAX_RETENTION_DAYS, step=1, unit_of_measurement="d", mode=NumberSelectorMode.BOX
    )
)
