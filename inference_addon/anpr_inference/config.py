"""Service settings: one frozen object built from defaults, an add-on options file and flags.

The add-on's `config.yaml` options, the `serve` command's flags and the `ANPR_*` environment
variables all map onto `ServiceConfig`; one voluptuous schema validates them so every entry
point rejects the same bad values with the same message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .contract import DEFAULT_PORT, REGIONS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

DEFAULT_HUB_DETECTOR = "yolo-v9-t-384-license-plate-end2end"
DEFAULT_HUB_OCR = "cct-xs-v1-global-model+cct-xs-v2-global-model"
"""The OCR model(s) of the measured pipeline; names joined by `+` are fused."""
MODEL_SOURCES = ("auto", "hub", "file", "embedded")
LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(ValueError):
    """A setting has an invalid value; the message names the setting."""


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Every setting of the inference service."""

    host: str = "0.0.0.0"  # noqa: S104 - the add-on must be reachable from Home Assistant
    port: int = DEFAULT_PORT
    api_key: str | None = None
    # data_dir keeps the stable instance id (the add-on uses /data); model_dir the models
    # (the add-on uses /data/models, excluded from backups).
    data_dir: Path = Path("~/.local/share/anpr-inference")
    model_dir: Path = Path("~/.cache/anpr-inference/models")
    # Read-only folder of pinned models fetched when an image was built (`fetch-models`).
    bundled_model_dir: Path | None = None
    # Mirror to download hub models from instead of the projects' release pages.
    model_base_url: str | None = None
    # Where each stage's model comes from: auto, hub, file, embedded.
    detector: str = "auto"
    ocr: str = "auto"
    # Explicit model files (source `file`); in `auto` they win over everything else.
    detector_path: Path | None = None
    ocr_path: Path | None = None
    ocr_config_path: Path | None = None
    hub_detector_model: str = DEFAULT_HUB_DETECTOR
    hub_ocr_model: str = DEFAULT_HUB_OCR
    allow_download: bool = True
    download_timeout: float = 60.0
    workers: int = 1
    threads_per_worker: int = 0  # 0: let onnxruntime decide
    max_queue: int = 8
    max_body_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    # The most pixels one image is decoded to (PNG and WebP whole, JPEGs after reduction);
    # sized so two decodes at once fit beside Home Assistant on a 2 GB board (see DOCS.md).
    max_decoded_pixels: int = 3840 * 2160
    # Seconds a client has to send a whole request body, and its request headers.
    body_timeout: float = 30.0
    header_timeout: float = 10.0
    default_region: str | None = None
    min_confidence: float = 0.4
    log_level: str = "info"

    def with_values(self, values: Mapping[str, Any]) -> ServiceConfig:
        """Return a copy with the given settings replaced, validated like an options file."""
        clean = _validate(values)
        return replace(self, **clean)

    @classmethod
    def from_options_file(cls, path: Path) -> ServiceConfig:
        """Build from a Home Assistant add-on options file (`/data/options.json`)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ConfigError(f"cannot read options file {path}: {err}") from err
        if not isinstance(data, dict):
            raise ConfigError(f"options file {path} must hold a JSON object")
        # The add-on UI sends empty strings for unset optional values.
        return cls().with_values({k: v for k, v in data.items() if v not in ("", None)})


def _path(value: Any) -> Path:
    if not isinstance(value, str | Path) or not str(value):
        raise vol.Invalid("expected a path")
    return Path(value).expanduser()


def _or_none(validator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Accept None (unset) or what `validator` accepts, keeping the validator's complaint."""

    def check(value: Any) -> Any:
        return None if value is None else validator(value)

    return check


def _rule(validator: Callable[[Any], Any], rule: str, *, secret: bool = False) -> Any:
    """Validate with `validator`; a value it refuses is told the rule it breaks.

    voluptuous's own messages are terse ("expected int") or, for alternatives, say nothing at
    all ("not a valid value"); every setting here says what it must be instead, and the value
    it got unless that value is a secret.
    """
    schema = vol.Schema(validator)

    def check(value: Any) -> Any:
        try:
            return schema(value)
        except vol.Invalid as err:
            got = "" if secret else f" (got {value!r})"
            raise vol.Invalid(f"must be {rule}{got}") from err

    return check


def _whole(minimum: int, maximum: int | None = None) -> vol.All:
    return vol.All(vol.Coerce(int), vol.Range(min=minimum, max=maximum))


def _one_of(choices: Sequence[str], *, optional: bool = False) -> tuple[Any, str]:
    validator = vol.All(str, vol.Lower, vol.In(choices))
    return _or_none(validator) if optional else validator, f"one of {', '.join(choices)}"


_RULES: dict[str, tuple[Any, str]] = {
    "host": (vol.All(str, vol.Length(min=1)), "a host name or IP address to listen on"),
    "port": (_whole(0, 65535), "a whole number from 0 to 65535"),
    "api_key": (_or_none(vol.All(str, vol.Length(min=8))), "at least 8 characters long"),
    "data_dir": (_path, "a folder path"),
    "model_dir": (_path, "a folder path"),
    "bundled_model_dir": (_or_none(_path), "a folder path"),
    "model_base_url": (_or_none(vol.Url()), "a URL such as https://mirror.example.org/models"),
    "detector": _one_of(MODEL_SOURCES),
    "ocr": _one_of(MODEL_SOURCES),
    "detector_path": (_or_none(_path), "a file path"),
    "ocr_path": (_or_none(_path), "a file path"),
    "ocr_config_path": (_or_none(_path), "a file path"),
    "hub_detector_model": (vol.All(str, vol.Length(min=1)), "the name of a hub model"),
    "hub_ocr_model": (vol.All(str, vol.Length(min=1)), "the name of a hub model"),
    "allow_download": (vol.Boolean(), "true or false"),
    "download_timeout": (
        vol.All(vol.Coerce(float), vol.Range(min=1)),
        "a number of seconds, at least 1",
    ),
    "workers": (_whole(1, 64), "a whole number from 1 to 64"),
    "threads_per_worker": (_whole(0, 64), "a whole number from 0 (onnxruntime decides) to 64"),
    "max_queue": (_whole(0, 1000), "a whole number from 0 to 1000"),
    "max_body_bytes": (_whole(1024), "a whole number of bytes, at least 1024"),
    "max_pixels": (_whole(10_000), "a whole number of pixels, at least 10000"),
    "max_decoded_pixels": (_whole(10_000), "a whole number of pixels, at least 10000"),
    "body_timeout": (
        vol.All(vol.Coerce(float), vol.Range(min=1, max=3600)),
        "a number of seconds from 1 to 3600",
    ),
    "header_timeout": (
        vol.All(vol.Coerce(float), vol.Range(min=1, max=3600)),
        "a number of seconds from 1 to 3600",
    ),
    "default_region": _one_of(REGIONS, optional=True),
    "min_confidence": (
        vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
        "a number from 0 to 1",
    ),
    "log_level": _one_of(LOG_LEVELS),
}
"""Each setting's validator and, in words, the rule it enforces (for the error message)."""

_SECRETS = frozenset({"api_key"})

_SCHEMA = vol.Schema(
    {
        vol.Optional(name): _rule(validator, rule, secret=name in _SECRETS)
        for name, (validator, rule) in _RULES.items()
    }
)

FIELD_NAMES = frozenset(f.name for f in fields(ServiceConfig))


def _validate(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - FIELD_NAMES)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    try:
        result: dict[str, Any] = _SCHEMA(dict(values))
    except vol.Invalid as err:
        raise ConfigError(f"invalid setting {err.path[0] if err.path else ''}: {err.msg}") from err
    return result
