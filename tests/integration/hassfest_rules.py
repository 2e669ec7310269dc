"""Home Assistant's hassfest checks of an integration's metadata files, restated.

hassfest lives in Home Assistant core's `script/` folder, which the `homeassistant` wheel does
not ship, so it can't be imported here. These schemas restate its rules as of late 2026
(`script/hassfest/manifest.py`, `services.py`, `translations.py`, `icons.py` and
`quality_scale.py`), built from the same helpers of the installed Home Assistant
(`config_validation`, `selector`, `service`). Where
hassfest is lenient with custom integrations (names and descriptions may sit in
services.yaml), the core rule is applied: every text comes from the translations.
"""

from __future__ import annotations

import re
import string
from typing import Any
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
from homeassistant.const import CONF_SELECTOR
from homeassistant.helpers import config_validation as cv, selector, service
import voluptuous as vol

# --- manifest.py ---------------------------------------------------------------------------

INTEGRATION_TYPES = ["device", "entity", "hardware", "helper", "hub", "service", "system"]
IOT_CLASSES = [
    "assumed_state", "calculated", "cloud_polling", "cloud_push", "local_polling", "local_push",
]  # fmt: skip
QUALITY_SCALES = ["internal", "bronze", "silver", "gold", "platinum"]


def verify_version(value: str) -> str:
    """Accept the versions hassfest accepts (CalVer, SemVer, simple, build, PEP 440)."""
    try:
        AwesomeVersion(
            value,
            ensure_strategy=[
                AwesomeVersionStrategy.CALVER,
                AwesomeVersionStrategy.SEMVER,
                AwesomeVersionStrategy.SIMPLEVER,
                AwesomeVersionStrategy.BUILDVER,
                AwesomeVersionStrategy.PEP440,
            ],
        )
    except AwesomeVersionException as err:
        raise vol.Invalid(f"{value!r} is not a valid version") from err
    return value


def custom_documentation_url(value: str) -> str:
    """Refuse what only core integrations may use: an https page on home-assistant.io."""
    parsed = urlparse(value)
    if parsed.scheme != "https":
        raise vol.Invalid("the documentation URL must use https")
    if parsed.netloc == "www.home-assistant.io" and parsed.path.startswith("/integrations"):
        raise vol.Invalid("a custom integration can't point at home-assistant.io/integrations")
    return value


CUSTOM_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Optional("integration_type"): vol.In(INTEGRATION_TYPES),
        vol.Optional("config_flow"): bool,
        vol.Optional("mqtt"): [str],
        vol.Optional("zeroconf"): list,
        vol.Optional("ssdp"): list,
        vol.Optional("bluetooth"): list,
        vol.Optional("homekit"): dict,
        vol.Optional("dhcp"): list,
        vol.Optional("usb"): list,
        vol.Required("documentation"): vol.All(vol.Url(), custom_documentation_url),
        vol.Optional("issue_tracker"): vol.Url(),
        vol.Optional("quality_scale"): vol.In(QUALITY_SCALES),
        vol.Optional("requirements"): [str],
        vol.Optional("dependencies"): [str],
        vol.Optional("after_dependencies"): [str],
        vol.Required("codeowners"): [vol.Match(r"^@[\w.-]+(/[\w.-]+)?$")],
        vol.Optional("loggers"): [str],
        vol.Optional("disabled"): str,
        vol.Optional("iot_class"): vol.In(IOT_CLASSES),
        vol.Optional("single_config_entry"): bool,
        # Custom integrations only; hassfest requires the version separately.
        vol.Required("version"): vol.All(str, verify_version),
        vol.Optional("import_executor"): bool,
    }
)


def manifest_keys_sorted(keys: list[str]) -> bool:
    """Return whether the keys are in hassfest's order: domain, name, then alphabetical."""
    order = {"domain": ".domain", "name": ".name"}
    return keys == sorted(keys, key=lambda key: order.get(key, key))


# --- services.py ---------------------------------------------------------------------------


def _exists(value: Any) -> Any:
    if value is None:
        raise vol.Invalid("value cannot be None")
    return value


def _unique_fields(fields: dict[str, Any]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, value in fields.items():
        for name in value["fields"] if value and "fields" in value else [key]:
            if name in seen:
                raise vol.Invalid(f"duplicate use of field {name}")
            seen.add(name)
    return fields


_FIELD = {
    vol.Optional("example"): _exists,
    vol.Optional("default"): _exists,
    vol.Optional("required"): bool,
    vol.Optional("advanced"): bool,
    vol.Optional(CONF_SELECTOR): selector.validate_selector,
}
_TARGETED_FIELD = {
    **_FIELD,
    vol.Optional("filter"): {
        vol.Exclusive("attribute", "field_filter"): {
            vol.Required(str): [vol.All(str, service.validate_attribute_option)],
        },
        vol.Exclusive("supported_features", "field_filter"): [
            vol.All(str, service.validate_supported_feature)
        ],
    },
}


def _service_schema(*, targeted: bool) -> vol.Schema:
    field = vol.Schema(_TARGETED_FIELD if targeted else _FIELD)
    section = vol.Schema({vol.Optional("collapsed"): bool, vol.Required("fields"): {str: field}})
    schema: dict[Any, Any] = {
        vol.Optional("fields"): vol.All(vol.Schema({str: vol.Any(field, section)}), _unique_fields)
    }
    if targeted:
        schema[vol.Required("target")] = vol.Any(selector.TargetSelector.CONFIG_SCHEMA, None)
    return vol.Schema(schema)


# The core schema: no name or description in services.yaml (they are translated).
SERVICES_SCHEMA = vol.Schema(
    {cv.slug: vol.Any(_service_schema(targeted=True), _service_schema(targeted=False), None)}
)

# --- translations.py -----------------------------------------------------------------------

RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_PLACEHOLDER_IN_SINGLE_QUOTES = re.compile(r"'{\w+}'")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)


def translation_key(value: str) -> str:
    """Accept [a-z0-9-_]+ keys that neither start nor end with - or _ nor double them."""
    if not RE_TRANSLATION_KEY.match(value):
        raise vol.Invalid(f"invalid translation key {value!r}")
    return value


def _text(*, placeholders: bool = True) -> Any:
    def validate(value: Any) -> str:
        text: str = cv.string_with_no_html(value)
        if RE_PLACEHOLDER_IN_SINGLE_QUOTES.search(text):
            raise vol.Invalid("no placeholders inside single quotes")
        for _, field, _, _ in string.Formatter().parse(text):
            if field and not placeholders:
                raise vol.Invalid("placeholders are not supported in this value")
            if field and not field.isidentifier():
                raise vol.Invalid("placeholders must be valid identifiers")
        if RE_COMBINED_REFERENCE.search(text):
            raise vol.Invalid("no combined translations")
        if text != text.strip():
            raise vol.Invalid("no leading or trailing spaces")
        if RE_URL.search(text):
            raise vol.Invalid("no URLs (use description placeholders)")
        return text

    return validate


TEXT = _text()
PLAIN_TEXT = _text(placeholders=False)


def _keyed(value: Any, keys: Any = translation_key) -> Any:
    return cv.schema_with_slug_keys(value, slug_validator=keys)


def _data_description_in_data(value: dict[str, Any]) -> dict[str, Any]:
    for step in value["step"].values():
        for key in step.get("data_description", {}):
            if key not in step.get("data", {}):
                raise vol.Invalid(f"data_description key {key} is not in data")
    return value


_SECTION = {
    vol.Optional("data"): {str: TEXT},
    vol.Optional("data_description"): {str: TEXT},
    vol.Optional("description"): TEXT,
    vol.Optional("name"): TEXT,
}
DATA_ENTRY_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Optional("flow_title"): TEXT,
            vol.Required("step"): {
                str: {
                    vol.Optional("title"): TEXT,
                    vol.Optional("description"): TEXT,
                    vol.Optional("data"): {str: TEXT},
                    vol.Optional("data_description"): {str: TEXT},
                    vol.Optional("menu_options"): {str: TEXT},
                    vol.Optional("menu_option_descriptions"): {str: TEXT},
                    vol.Optional("submit"): TEXT,
                    vol.Optional("sections"): {str: _SECTION},
                }
            },
            vol.Optional("error"): {str: TEXT},
            vol.Optional("abort"): {str: TEXT},
            vol.Optional("progress"): {str: TEXT},
            vol.Optional("create_entry"): {str: TEXT},
            vol.Optional("initiate_flow"): {vol.Required("user"): TEXT},
        }
    ),
    _data_description_in_data,
)

_SERVICE_FIELDS = _keyed(
    {
        vol.Required("name"): str,
        vol.Required("description"): TEXT,
        vol.Optional("example"): TEXT,
    }
)
STRINGS_SCHEMA = vol.Schema(
    {
        vol.Optional("title"): TEXT,
        vol.Optional("config"): DATA_ENTRY_SCHEMA,
        vol.Optional("options"): DATA_ENTRY_SCHEMA,
        vol.Optional("selector"): _keyed(
            {
                vol.Optional("choices"): _keyed(TEXT),
                vol.Optional("options"): _keyed(TEXT),
                vol.Optional("unit_of_measurement"): _keyed(TEXT),
                vol.Optional("fields"): _keyed(
                    {vol.Required("name"): str, vol.Required("description"): TEXT}
                ),
            },
            keys=vol.Any("_", cv.slug),
        ),
        vol.Optional("issues"): {
            str: vol.All(
                cv.has_at_least_one_key("description", "fix_flow"),
                vol.Schema(
                    {
                        vol.Required("title"): TEXT,
                        vol.Exclusive("description", "fixable"): TEXT,
                        vol.Exclusive("fix_flow", "fixable"): DATA_ENTRY_SCHEMA,
                    }
                ),
            )
        },
        vol.Optional("device"): _keyed({vol.Optional("name"): TEXT}),
        vol.Optional("entity"): _keyed(
            _keyed(
                {
                    vol.Optional("name"): TEXT,
                    vol.Optional("state"): _keyed(PLAIN_TEXT),
                    vol.Optional("state_attributes"): _keyed(
                        {
                            vol.Optional("name"): PLAIN_TEXT,
                            vol.Optional("state"): _keyed(PLAIN_TEXT),
                        }
                    ),
                    vol.Optional("unit_of_measurement"): PLAIN_TEXT,
                }
            ),
            keys=cv.slug,
        ),
        vol.Optional("exceptions"): _keyed({vol.Optional("message"): TEXT}, keys=cv.slug),
        vol.Optional("services"): _keyed(
            {
                vol.Required("name"): TEXT,
                vol.Required("description"): TEXT,
                vol.Optional("fields"): _SERVICE_FIELDS,
                vol.Optional("sections"): _keyed(
                    {vol.Required("name"): str, vol.Optional("description"): TEXT}
                ),
            }
        ),
        vol.Optional("common"): vol.Schema({cv.slug: TEXT}),
    }
)

# --- icons.py ------------------------------------------------------------------------------


def icon(value: Any) -> str:
    """Accept a Material Design Icons name: `mdi:...`."""
    text: str = cv.string_with_no_html(value)
    if not text.startswith("mdi:"):
        raise vol.Invalid("icons come from Material Design Icons and start with `mdi:`")
    return text


_STATE_ICONS = _keyed(icon)
ICONS_SCHEMA = vol.Schema(
    {
        vol.Optional("services"): _keyed(
            vol.Any(icon, {vol.Required("service"): icon, vol.Optional("sections"): _STATE_ICONS})
        ),
        vol.Required("entity"): _keyed(
            _keyed(
                {
                    vol.Optional("default"): icon,
                    vol.Optional("state"): _STATE_ICONS,
                    vol.Optional("range"): {vol.Coerce(float): icon},
                    vol.Optional("state_attributes"): _keyed(
                        {vol.Optional("default"): icon, vol.Optional("state"): _STATE_ICONS}
                    ),
                }
            ),
            keys=cv.slug,
        ),
    }
)


# --- quality_scale.py ----------------------------------------------------------------------

QUALITY_SCALE_RULES: dict[str, list[str]] = {
    "bronze": [
        "action-setup", "appropriate-polling", "brands", "common-modules", "config-flow",
        "config-flow-test-coverage", "dependency-transparency", "docs-actions",
        "docs-conditions", "docs-high-level-description", "docs-installation-instructions",
        "docs-removal-instructions", "docs-triggers", "entity-event-setup", "entity-unique-id",
        "has-entity-name", "runtime-data", "test-before-configure", "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
        "docs-installation-parameters", "entity-unavailable", "integration-owner",
        "log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage",
    ],
    "gold": [
        "devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update",
        "docs-examples", "docs-known-limitations", "docs-supported-devices",
        "docs-supported-functions", "docs-troubleshooting", "docs-use-cases", "dynamic-devices",
        "entity-category", "entity-device-class", "entity-disabled-by-default",
        "entity-translations", "exception-translations", "icon-translations",
        "reconfiguration-flow", "repair-issues", "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}  # fmt: skip
ALL_RULES = [rule for rules in QUALITY_SCALE_RULES.values() for rule in rules]

QUALITY_SCALE_SCHEMA = vol.Schema(
    {
        vol.Required("rules"): vol.Schema(
            {
                vol.Optional(rule): vol.Any(
                    vol.In(["todo", "done"]),
                    vol.Schema(
                        {
                            vol.Required("status"): vol.In(["todo", "done"]),
                            vol.Required("comment"): str,
                        }
                    ),
                    vol.Schema({vol.Required("status"): "exempt", vol.Required("comment"): str}),
                )
                for rule in ALL_RULES
            }
        )
    }
)
