"""The add-on's files pass the Supervisor's own validation (tests/inference/supervisor_rules.py).

The Supervisor reads these files only on a real Home Assistant system, where a mistake shows
up as an add-on that won't install or start; the default `options` are also checked against
the option `schema`, as the Supervisor does before it starts the add-on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
import yaml

from .supervisor_rules import (
    BUILD_SCHEMA,
    CONFIG_SCHEMA,
    REPOSITORY_SCHEMA,
    TRANSLATIONS_SCHEMA,
    option_validator,
)

ADDON = Path(__file__).resolve().parents[2] / "inference_addon"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = load(ADDON / "config.yaml")
    assert isinstance(data, dict)
    return data


def test_config_passes_the_supervisor_schema(config: dict[str, Any]) -> None:
    CONFIG_SCHEMA(config)


def test_build_passes_the_supervisor_schema() -> None:
    BUILD_SCHEMA(load(ADDON / "build.yaml"))


def test_repository_passes_the_supervisor_schema() -> None:
    REPOSITORY_SCHEMA(load(ADDON.parent / "repository.yaml"))


def test_translations_pass_the_supervisor_schema() -> None:
    paths = sorted((ADDON / "translations").glob("*.yaml"))
    assert paths
    for path in paths:
        TRANSLATIONS_SCHEMA(load(path))


def test_default_options_satisfy_the_option_schema(config: dict[str, Any]) -> None:
    """The Supervisor refuses to start an add-on whose options miss a required key."""
    schema, options = config["schema"], config["options"]
    for key, value in options.items():
        option_validator(schema[key])(value)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"arch": ["armv7"]}, "a deprecated architecture"),
        ({"map": ["addon_config:rw"]}, "a legacy map type"),
        ({"advanced": True}, "a deprecated field"),
        ({"startupp": "services"}, "a typo the Supervisor drops silently"),
        ({"version": "0.2"}, "not x.y.z"),
        ({"watchdog": "http://localhost:8756/v1/health"}, "no [HOST]"),
        ({"ports": {"8756/sctp": 8756}}, "an unknown protocol"),
        ({"schema": {"workers": "integer(1,8)"}}, "an unknown option type"),
    ],
)
def test_the_schema_catches_mistakes(
    config: dict[str, Any], change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(vol.Invalid):
        CONFIG_SCHEMA({**config, **change})
