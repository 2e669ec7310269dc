"""The Supervisor's validation rules for an add-on's files, restated for the tests.

From home-assistant/supervisor (`supervisor/apps/validate.py`, `apps/options.py`,
`validate.py`, `const.py` and `store/validate.py` as of Supervisor 2026.08): the keys an
add-on's `config.yaml`, `build.yaml` and `translations/*.yaml`, and its repository's
`repository.yaml`, may hold and what each accepts. Stricter than the Supervisor in two ways,
to catch the mistakes it lets through quietly: a key it does not know is an error here (it
drops such keys without a word, so a typo silently loses a setting), and what it only warns
about (deprecated architectures, map types and fields) is not accepted.
"""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol

# supervisor/const.py: ARCH_ALL; ARCH_DEPRECATED (armhf, armv7, i386) only warns there.
ARCHES = ["aarch64", "amd64"]
# supervisor/apps/const.py: RE_SLUG; MappingType without the legacy add-on names.
SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
MAP_TYPES = [
    "data", "config", "ssl", "local_apps", "backup", "share", "media",
    "homeassistant_config", "all_app_configs", "app_config",
]  # fmt: skip
RE_VOLUME = re.compile(rf"^({'|'.join(MAP_TYPES)})(?::(rw|ro))?$")
# supervisor/const.py: AppStartup, AppBootConfig, AppStage, ROLE_ALL; apps/const.py: backup.
STARTUP = ["initialize", "system", "services", "application", "once"]
BOOT = ["auto", "manual", "manual_only"]
STAGE = ["stable", "experimental", "deprecated"]
ROLES = ["default", "homeassistant", "backup", "manager", "admin"]
BACKUP = ["hot", "cold"]
# supervisor/validate.py
network_port = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
docker_port = vol.All(str, vol.Match(r"^\d+(?:/tcp|/udp)?$"))
docker_ports = vol.Schema({docker_port: vol.Maybe(network_port)})
docker_ports_description = vol.Schema({docker_port: str})
# A version is any string to the Supervisor (AwesomeVersion); releases here are x.y.z.
version_tag = vol.All(str, vol.Match(r"^\d+\.\d+\.\d+$"))
docker_image = vol.Match(
    r"^([a-z0-9.\-]+(:\d+)?/)?[a-z0-9{][a-z0-9.\-_{}]*(/[a-z0-9{][a-z0-9.\-_{}]*)*$"
)
# supervisor/apps/options.py
RE_SCHEMA_ELEMENT = re.compile(
    r"^(?:"
    r"|bool"
    r"|email"
    r"|url"
    r"|port"
    r"|device(?:\((?P<filter>subsystem=[a-z]+)\))?"
    r"|str(?:\((?P<s_min>\d+)?,(?P<s_max>\d+)?\))?"
    r"|password(?:\((?P<p_min>\d+)?,(?P<p_max>\d+)?\))?"
    r"|int(?:\((?P<i_min>-?\d+)?,(?P<i_max>-?\d+)?\))?"
    r"|float(?:\((?P<f_min>-?\d*\.?\d+)?,(?P<f_max>-?\d*\.?\d+)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<list>.+)\)"
    r")\??$"
)
SCHEMA_ELEMENT = vol.Schema(
    vol.Any(
        vol.Match(RE_SCHEMA_ELEMENT),
        [vol.Any(vol.Match(RE_SCHEMA_ELEMENT), {str: vol.Self})],
        {str: vol.Self},
    )
)
# supervisor/apps/validate.py: RE_DOCKER_IMAGE_BUILD
RE_DOCKER_IMAGE_BUILD = re.compile(
    r"^([a-zA-Z\-\.:\d{}]+/)*?([\-\w{}]+)/([\-\w{}]+)(:[\.\-\w{}]+)?$"
)


def _volume(entry: Any) -> dict[str, Any]:
    """Check a `map` entry: "type[:rw|ro]" or {type, read_only, path} (Supervisor 2023.11+)."""
    if isinstance(entry, str):
        match = RE_VOLUME.match(entry)
        if not match:
            raise vol.Invalid(f"unknown map entry {entry!r}")
        return {"type": match.group(1), "read_only": match.group(2) != "rw"}
    return vol.Schema(
        {
            vol.Required("type"): vol.In(MAP_TYPES),
            vol.Optional("read_only"): bool,
            vol.Optional("path"): str,
        }
    )(entry)


_boolean = vol.Boolean()
BOOLEAN_FLAGS = (
    "host_network", "host_pid", "host_ipc", "host_uts", "host_dbus", "udev", "tmpfs",
    "apparmor", "full_access", "audio", "video", "gpio", "usb", "uart", "devicetree",
    "kernel_modules", "realtime", "hassio_api", "homeassistant_api", "stdin", "legacy",
    "docker_api", "auth_api", "journald",
)  # fmt: skip
CONFIG_SCHEMA = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Required("version"): version_tag,
        vol.Required("slug"): vol.Match(SLUG),
        vol.Required("description"): str,
        vol.Required("arch"): [vol.In(ARCHES)],
        vol.Optional("machine"): [str],
        vol.Optional("url"): vol.Url(),
        vol.Optional("startup"): vol.In(STARTUP),
        vol.Optional("boot"): vol.In(BOOT),
        vol.Optional("init"): _boolean,
        vol.Optional("stage"): vol.In(STAGE),
        vol.Optional("ports"): docker_ports,
        vol.Optional("ports_description"): docker_ports_description,
        vol.Optional("watchdog"): vol.Match(
            r"^(?:https?|\[PROTO:\w+\]|tcp):\/\/\[HOST\]:(\[PORT:\d+\]|\d+).*$"
        ),
        vol.Optional("webui"): vol.Match(r"^(?:https?|\[PROTO:\w+\]):\/\/\[HOST\]:\[PORT:\d+\].*$"),
        vol.Optional("ingress"): _boolean,
        vol.Optional("ingress_port"): vol.Any(network_port, vol.Equal(0)),
        vol.Optional("ingress_entry"): str,
        vol.Optional("ingress_stream"): _boolean,
        vol.Optional("panel_icon"): str,
        vol.Optional("panel_title"): str,
        vol.Optional("panel_admin"): _boolean,
        vol.Optional("homeassistant"): version_tag,
        **{vol.Optional(flag): _boolean for flag in BOOLEAN_FLAGS},
        vol.Optional("devices"): [str],
        vol.Optional("map"): [_volume],
        vol.Optional("environment"): {vol.Match(r"\w*"): str},
        vol.Optional("privileged"): [str],
        vol.Optional("hassio_role"): vol.In(ROLES),
        vol.Optional("services"): [
            vol.Match(r"^(?P<service>mqtt|mysql):(?P<rights>provide|want|need)$")
        ],
        vol.Optional("discovery"): [str],
        vol.Optional("backup_exclude"): [str],
        vol.Optional("backup_pre"): str,
        vol.Optional("backup_post"): str,
        vol.Optional("backup"): vol.In(BACKUP),
        vol.Optional("options"): dict,
        vol.Optional("schema"): vol.Any(vol.Schema({str: SCHEMA_ELEMENT}), False),
        vol.Optional("image"): docker_image,
        vol.Optional("ulimits"): {str: vol.Any(int, {"soft": int, "hard": int})},
        vol.Optional("timeout"): vol.All(vol.Coerce(int), vol.Range(min=10, max=300)),
        vol.Optional("breaking_versions"): [version_tag],
    },
    extra=vol.PREVENT_EXTRA,
)

BUILD_SCHEMA = vol.Schema(
    {
        vol.Optional("build_from"): vol.Any(
            vol.Match(RE_DOCKER_IMAGE_BUILD),
            vol.Schema({vol.In(ARCHES): vol.Match(RE_DOCKER_IMAGE_BUILD)}),
        ),
        vol.Optional("squash"): _boolean,
        vol.Optional("args"): vol.Schema({str: str}),
        vol.Optional("labels"): vol.Schema({str: str}),
    },
    extra=vol.PREVENT_EXTRA,
)

TRANSLATION_FIELD = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("description"): vol.Maybe(str),
        vol.Optional("fields"): {str: vol.Self},
    },
    extra=vol.PREVENT_EXTRA,
)
TRANSLATIONS_SCHEMA = vol.Schema(
    {
        vol.Optional("configuration"): {str: TRANSLATION_FIELD},
        vol.Optional("network"): {str: str},
    },
    extra=vol.PREVENT_EXTRA,
)


def option_validator(element: str) -> Any:
    """Return the check the Supervisor makes of an option's value (apps/options.py)."""
    match = RE_SCHEMA_ELEMENT.match(element)
    assert match, element
    kind = element.rstrip("?").split("(", 1)[0]
    if kind == "int":
        return _number_validator(int, match.group("i_min"), match.group("i_max"))
    if kind == "float":
        return _number_validator(float, match.group("f_min"), match.group("f_max"))
    if kind == "list":
        return vol.In(match.group("list").split("|"))
    plain: dict[str, Any] = {"bool": vol.Boolean(), "url": vol.Url(), "port": network_port}
    return plain.get(kind, vol.All(str, vol.Length(min=1)))


def _number_validator(kind: type[float], low: str | None, high: str | None) -> Any:
    """Return the check of an `int(min,max)` or `float(min,max)` option (either end open)."""
    return vol.All(
        vol.Coerce(kind),
        vol.Range(min=kind(low) if low else None, max=kind(high) if high else None),
    )


# supervisor/store/validate.py: the add-on repository's repository.yaml
REPOSITORY_SCHEMA = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("url"): vol.Url(),
        vol.Optional("maintainer"): str,
    },
    extra=vol.PREVENT_EXTRA,
)
