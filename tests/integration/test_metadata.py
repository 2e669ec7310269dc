"""The integration's metadata files agree with each other and with the code.

Home Assistant's own hassfest does not run on custom integrations' tests, so the checks that
matter most to users (every message has a text, every step a title, every entity a name and an
icon) are made here.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest
import yaml

from custom_components.anpr.binary_sensor import PRESENCE_SENSORS
from custom_components.anpr.const import Category

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
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest wants the other keys sorted"
    assert manifest["domain"] == "anpr"
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


def test_flow_errors_and_aborts_have_texts(strings: dict[str, Any]) -> None:
    source = (PACKAGE / "config_flow.py").read_text(encoding="utf-8")
    errors = set(re.findall(r'(?:"base"|CONF_[A-Z_]+): "([a-z_]+)"', source))
    errors |= set(re.findall(r'errors\[[A-Z_]+\] = "([a-z_]+)"', source))
    aborts = set(re.findall(r'reason="([a-z_]+)"', source))
    config_errors = set(strings["config"]["error"])
    assert errors - config_errors - set(strings["options"]["error"]) == set()
    # Discovery aborts with the validation error's key.
    assert config_errors - {"invalid_url"} <= set(strings["config"]["abort"])
    assert aborts <= set(strings["config"]["abort"]) | set(strings["options"]["abort"])


def test_steps_have_titles(strings: dict[str, Any]) -> None:
    source = (PACKAGE / "config_flow.py").read_text(encoding="utf-8")
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
