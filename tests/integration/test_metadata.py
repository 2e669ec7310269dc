"""The integration's metadata files agree with each other and with the code.

Home Assistant's own hassfest does not run on custom integrations' tests, so its checks of
manifest.json, services.yaml and the translations run here (restated in hassfest_rules.py),
with the ones that matter most to users (every message has a text, every step a title, every
entity a name and an icon).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest
import voluptuous as vol
import yaml

from anpr_inference.openapi import build_openapi
from custom_components.anpr.binary_sensor import PRESENCE_SENSORS
from custom_components.anpr.const import Category

from .hassfest_rules import (
    CUSTOM_MANIFEST_SCHEMA,
    ICONS_SCHEMA,
    SERVICES_SCHEMA,
    STRINGS_SCHEMA,
    manifest_keys_sorted,
)

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / "anpr"


def load(name: str) -> Any:
    text = (PACKAGE / name).read_text(encoding="utf-8")
    return yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)


def code() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(PACKAGE.glob("*.py")))


@pytest.fixture(scope="module")
def strings() -> dict[str, Any]:
    return load("translations/en.json")  # type: ignore[no-any-return]


def test_manifest() -> None:
    manifest = load("manifest.json")
    CUSTOM_MANIFEST_SCHEMA(manifest)
    assert manifest_keys_sorted(list(manifest)), "hassfest: domain, name, then alphabetical"
    assert manifest["domain"] == PACKAGE.name == "anpr"
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] in {"local_polling", "local_push"}
    assert manifest["requirements"] == []
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])


def test_oldest_supported_release_is_the_one_tested() -> None:
    """HACS offers the integration from the release that the first test suite runs on."""
    hacs = json.loads((PACKAGE.parents[1] / "hacs.json").read_text(encoding="utf-8"))
    requirements = (PACKAGE.parents[1] / "requirements.txt").read_text(encoding="utf-8")
    tested = re.search(r"^homeassistant==(\d+\.\d+)\.\d+$", requirements, re.MULTILINE)
    assert tested is not None
    assert hacs["homeassistant"] == f"{tested.group(1)}.0"


def test_exceptions_have_messages(strings: dict[str, Any]) -> None:
    used = set(re.findall(r'translation_key="([a-z_]+)"', code()))
    entity_keys = {key for platform in strings["entity"].values() for key in platform}
    known = (
        set(strings["exceptions"]) | entity_keys | set(strings["issues"]) | set(strings["selector"])
    )
    missing = used - known
    assert not missing


def flow_source() -> str:
    """Return the code of the config and options flow (split over several modules)."""
    modules = [
        "config_flow.py",
        "flow_common.py",
        *sorted(p.name for p in PACKAGE.glob("options_*.py")),
    ]
    return "\n".join((PACKAGE / name).read_text(encoding="utf-8") for name in modules)


def test_flow_errors_and_aborts_have_texts(strings: dict[str, Any]) -> None:
    source = flow_source()
    errors = set(re.findall(r'(?:"base"|CONF_[A-Z_]+): "([a-z_]+)"', source))
    errors |= set(re.findall(r'errors\[[A-Z_]+\] = "([a-z_]+)"', source))
    aborts = set(re.findall(r'reason="([a-z_]+)"', source))
    config_errors = set(strings["config"]["error"])
    assert errors - config_errors - set(strings["options"]["error"]) == set()
    # Discovery aborts with the validation error's key.
    assert config_errors - {"invalid_url"} <= set(strings["config"]["abort"])
    assert aborts <= set(strings["config"]["abort"]) | set(strings["options"]["abort"])


def test_steps_have_titles(strings: dict[str, Any]) -> None:
    source = flow_source()
    steps = set(re.findall(r'step_id="([a-z_]+)"', source))
    described = set(strings["config"]["step"]) | set(strings["options"]["step"])
    assert steps <= described
    for section in ("config", "options"):
        for step in strings[section]["step"].values():
            assert step.get("title")
            assert set(step.get("data_description", {})) <= set(step.get("data", {}))


def test_entities_have_names_and_icons(strings: dict[str, Any]) -> None:
    icons = load("icons.json")
    for platform, entities in icons["entity"].items():
        assert set(entities) <= set(strings["entity"][platform])
    presence = {d.translation_key for d in PRESENCE_SENSORS}
    assert presence == set(strings["entity"]["binary_sensor"])
    event_states = strings["entity"]["event"]["vehicle"]["state_attributes"]["event_type"]
    assert set(event_states["state"]) == {c.value for c in Category}


def test_services_are_described(strings: dict[str, Any]) -> None:
    services = load("services.yaml")
    assert set(services) == set(strings["services"]) == set(load("icons.json")["services"])
    for name, service in services.items():
        assert set(service["fields"]) == set(strings["services"][name]["fields"])


def test_services_pass_hassfest(strings: dict[str, Any]) -> None:
    services = SERVICES_SCHEMA(load("services.yaml"))
    for service in services.values():
        for field in service.get("fields", {}).values():
            key = field.get("selector", {}).get("select", {}).get("translation_key")
            assert key is None or key in strings["selector"], key


def test_translations_pass_hassfest(strings: dict[str, Any]) -> None:
    STRINGS_SCHEMA(strings)


def test_icons_pass_hassfest() -> None:
    ICONS_SCHEMA(load("icons.json"))


@pytest.mark.parametrize(
    ("section", "change"),
    [
        ("exceptions", {"bad": {"message": "Trailing space "}}),
        ("exceptions", {"bad": {"message": "See https://example.com/help"}}),
        ("exceptions", {"bad": {"message": "Quoted '{plate}' placeholder"}}),
        ("exceptions", {"bad": {"message": "<b>HTML</b>"}}),
        ("selector", {"Bad-Key": {"options": {"a": "A"}}}),
        ("unknown_section", {"a": "b"}),
    ],
)
def test_the_translation_rules_catch_mistakes(
    strings: dict[str, Any], section: str, change: dict[str, Any]
) -> None:
    with pytest.raises(vol.Invalid):
        STRINGS_SCHEMA({**strings, section: {**strings.get(section, {}), **change}})


def test_versions_follow_the_scheme() -> None:
    """The integration and the add-on are versioned apart; the HTTP API's path joins them.

    The rule (README, "Versions"): any integration release works with any service release
    that serves the API version in the integration's paths (`/v1`), so the integration may
    call only what the service documents under that version.
    """
    assert re.fullmatch(r"\d+\.\d+\.\d+", load("manifest.json")["version"])
    source = (PACKAGE / "api.py").read_text(encoding="utf-8")
    called = set(re.findall(r'"(/v\d+/[a-z_.]+)"', source))
    assert called == {"/v1/health", "/v1/recognize", "/v1/openapi.json"}
    documented = build_openapi(
        version="0",
        regions=["us"],
        auth_required=True,
        max_body_bytes=1,
        max_pixels=1,
        default_region=None,
        default_min_confidence=0.5,
    )["paths"]
    assert called <= set(documented)
