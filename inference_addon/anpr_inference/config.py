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

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_PORT = 8756
DEFAULT_HUB_DETECTOR = "yolo-v9-t-384-license-plate-end2end"
DEFAULT_HUB_OCR = "cct-xs-v1-global-model+cct-xs-v2-global-model"
"""The OCR model(s) of the measured pipeline; names joined by `+` are fused."""
MODEL_SOURCES = ("auto", "hub", "file", "embedded")


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
    return Path(str(value)).expanduser()


_SCHEMA = vol.Schema(
    {
        vol.Optional("host"): vol.All(str, vol.Length(min=1)),
        vol.Optional("port"): vol.All(vol.Coerce(int), vol.Range(min=0, max=65535)),
        vol.Optional("api_key"): vol.Any(None, vol.All(str, vol.Length(min=8))),
        vol.Optional("data_dir"): _path,
        vol.Optional("model_dir"): _path,
        vol.Optional("bundled_model_dir"): vol.Any(None, _path),
        vol.Optional("model_base_url"): vol.Any(None, vol.Url()),
        vol.Optional("detector"): vol.In(MODEL_SOURCES),
        vol.Optional("ocr"): vol.In(MODEL_SOURCES),
        vol.Optional("detector_path"): vol.Any(None, _path),
        vol.Optional("ocr_path"): vol.Any(None, _path),
        vol.Optional("ocr_config_path"): vol.Any(None, _path),
        vol.Optional("hub_detector_model"): str,
        vol.Optional("hub_ocr_model"): str,
        vol.Optional("allow_download"): vol.Boolean(),
        vol.Optional("download_timeout"): vol.All(vol.Coerce(float), vol.Range(min=1)),
        vol.Optional("workers"): vol.All(vol.Coerce(int), vol.Range(min=1, max=64)),
        vol.Optional("threads_per_worker"): vol.All(vol.Coerce(int), vol.Range(min=0, max=64)),
        vol.Optional("max_queue"): vol.All(vol.Coerce(int), vol.Range(min=0, max=1000)),
        vol.Optional("max_body_bytes"): vol.All(vol.Coerce(int), vol.Range(min=1024)),
        vol.Optional("max_pixels"): vol.All(vol.Coerce(int), vol.Range(min=10_000)),
        vol.Optional("default_region"): vol.Any(None, vol.All(str, vol.Lower)),
        vol.Optional("min_confidence"): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
        vol.Optional("log_level"): vol.All(
            str, vol.Lower, vol.In(["debug", "info", "warning", "error"])
        ),
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
