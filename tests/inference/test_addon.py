"""The Home Assistant add-on packaging agrees with itself and with the service.

The Supervisor only reads these files on a real Home Assistant system, where a mistake shows
up as an add-on that won't install or start; these checks catch the mistakes here.
"""

from __future__ import annotations

from importlib.metadata import distribution
import json
import os
from pathlib import Path
import re
import tomllib
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
import pytest
import yaml

from anpr_inference.config import (
    DEFAULT_HUB_OCR,
    DEFAULT_PORT,
    FIELD_NAMES,
    MODEL_SOURCES,
    ServiceConfig,
)
from anpr_inference.formats import REGIONS
from anpr_inference.models import hub_detector_models, hub_ocr_models

from .supervisor_rules import RE_SCHEMA_ELEMENT

REPO = Path(__file__).resolve().parents[2]
ADDON = REPO / "inference_addon"
S6 = ADDON / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = load_yaml(ADDON / "config.yaml")
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def schema(config: dict[str, Any]) -> dict[str, str]:
    result = config["schema"]
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def translations() -> dict[str, Any]:
    data = load_yaml(ADDON / "translations" / "en.yaml")
    assert isinstance(data, dict)
    return data


def list_values(element: str) -> list[str]:
    match = re.fullmatch(r"list\((.+)\)\??", element)
    assert match, element
    return match.group(1).split("|")


def test_required_keys_and_version(config: dict[str, Any]) -> None:
    for key in ("name", "version", "slug", "description", "arch"):
        assert config.get(key), key
    assert re.fullmatch(r"[a-z0-9_]+", config["slug"])
    pyproject = tomllib.loads((ADDON / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["version"] == pyproject["project"]["version"]
    assert sorted(config["arch"]) == ["aarch64", "amd64"]


def test_runtime_settings(config: dict[str, Any]) -> None:
    assert config["init"] is False  # s6-overlay v3 must be PID 1
    assert config["startup"] == "services"
    assert config["boot"] == "auto"
    port = f"{DEFAULT_PORT}/tcp"
    assert config["ports"] == {port: DEFAULT_PORT}
    assert set(config["ports_description"]) == {port}
    assert config["watchdog"] == f"http://[HOST]:[PORT:{DEFAULT_PORT}]/v1/health"
    assert config["discovery"] == ["anpr"]
    assert "share:ro" in config["map"]
    assert "models/*" in config["backup_exclude"]
    assert "image" not in config  # built locally until images are published


def test_every_option_has_a_schema_entry_and_service_setting(
    config: dict[str, Any], schema: dict[str, str]
) -> None:
    options = config["options"]
    assert set(options) <= set(schema)
    assert set(schema) <= FIELD_NAMES, sorted(set(schema) - FIELD_NAMES)
    for key, element in schema.items():
        assert isinstance(element, str), key
        assert RE_SCHEMA_ELEMENT.match(element), f"{key}: {element!r} is not a Supervisor type"
        # An option with a default is required; the optional ones must have none.
        assert element.endswith("?") == (key not in options), key


def test_default_options_are_the_service_defaults(config: dict[str, Any], tmp_path: Path) -> None:
    options = config["options"]
    service = ServiceConfig().with_values(options)
    defaults = ServiceConfig()
    for key, value in options.items():
        assert getattr(defaults, key) == value, key
    # What the Supervisor writes to /data/options.json loads as-is.
    path = tmp_path / "options.json"
    path.write_text(json.dumps({**options, "api_key": "", "ocr_path": ""}), encoding="utf-8")
    assert ServiceConfig.from_options_file(path) == service


def test_schema_ranges_and_choices_are_accepted_by_the_service(schema: dict[str, str]) -> None:
    base = ServiceConfig()
    for key, element in schema.items():
        kind = element.rstrip("?")
        if kind.startswith("list("):
            for value in list_values(kind):
                assert getattr(base.with_values({key: value}), key) == value, (key, value)
        elif match := re.fullmatch(r"(int|float)\((.*),(.*)\)", kind):
            for bound in match.group(2, 3):
                assert bound, f"{key}: give both bounds"
                base.with_values({key: float(bound) if match.group(1) == "float" else int(bound)})


def test_choices_match_the_service(schema: dict[str, str]) -> None:
    assert list_values(schema["detector"]) == list(MODEL_SOURCES)
    assert list_values(schema["ocr"]) == list(MODEL_SOURCES)
    assert sorted(list_values(schema["hub_detector_model"])) == sorted(hub_detector_models())
    assert sorted(list_values(schema["hub_ocr_model"])) == sorted(
        [*hub_ocr_models(), DEFAULT_HUB_OCR]
    )
    assert list_values(schema["default_region"]) == list(REGIONS)
    assert schema["api_key"] == "password?"


def test_every_schema_entry_is_translated(
    schema: dict[str, str], translations: dict[str, Any], config: dict[str, Any]
) -> None:
    texts = translations["configuration"]
    assert set(texts) == set(schema)
    for key, text in texts.items():
        assert text.get("name"), key
        assert text.get("description"), key
    assert set(translations["network"]) == set(config["ports"])


def test_build_uses_debian_bases(config: dict[str, Any]) -> None:
    build = load_yaml(ADDON / "build.yaml")
    assert set(build["build_from"]) == set(config["arch"])
    for arch, image in build["build_from"].items():
        assert image.startswith(f"ghcr.io/home-assistant/{arch}-base-debian:"), image
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG BUILD_FROM=ghcr.io/home-assistant/base-debian:" in dockerfile
    assert "FROM ${BUILD_FROM}" in dockerfile
    assert "COPY rootfs /" in dockerfile
    assert "-r image-requirements.txt" in dockerfile
    # The same special install of the embedded models as the development environment.
    rapidocr = re.compile(r"--no-deps --ignore-requires-python (rapidocr_onnxruntime==[\d.]+)")
    setup = rapidocr.search((REPO / "script" / "setup").read_text(encoding="utf-8"))
    image = rapidocr.search(dockerfile)
    assert setup
    assert image
    assert image.group(1) == setup.group(1)
    # The measured OCR models are baked in, where the service looks for them.
    fetch = re.search(r"anpr-inference fetch-models --into (\S+)", dockerfile)
    assert fetch
    assert f"ANPR_BUNDLED_MODEL_DIR={fetch.group(1)}" in dockerfile
    # pyproject's readme must be in the image's build context.
    assert (ADDON / "DOCS.md").is_file()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        pins[canonicalize_name(name)] = version.strip()
    return pins


def _runtime_closure() -> set[str]:
    seen: set[str] = set()
    todo = ["anpr-inference"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for raw in distribution(name).requires or []:
            requirement = Requirement(raw)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen - {"anpr-inference"}


def test_image_pins_match_the_tested_environment() -> None:
    image = _pins(ADDON / "image-requirements.txt")
    constraints = _pins(REPO / "constraints.txt")
    assert set(image) == _runtime_closure()
    for name, version in image.items():
        assert constraints.get(name) == version, f"{name}=={version} vs constraints.txt"


def test_image_does_not_install_the_development_tools() -> None:
    """The tools (`bench`, `load`: anpr-inference-tools) stay out of the add-on image."""
    tools_dir = REPO / "inference_tools"
    tools = tomllib.loads((tools_dir / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    tools_name = canonicalize_name(tools["name"])
    commands = tools["entry-points"]["anpr_inference.commands"]
    assert set(commands) >= {"bench", "load"}
    packages = {target.split(":")[0].split(".")[0] for target in commands.values()}
    assert packages == {"anpr_inference_tools"}
    # The build context is the add-on folder alone, and the tools are neither in it...
    assert not tools_dir.resolve().is_relative_to(ADDON.resolve())
    for package in packages:
        assert not list(ADDON.rglob(package)), package
    for module in ("bench.py", "load.py", "placement.py"):
        assert not (ADDON / "anpr_inference" / module).exists(), module
    for source in (ADDON / "anpr_inference").rglob("*.py"):
        assert "anpr_inference_tools" not in source.read_text(encoding="utf-8"), source
    # ...nor installed: the Dockerfile installs the pinned dependencies, the embedded models and
    # the service itself (this folder's pyproject), and none of those requires the tools.
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    installs = {line.strip() for line in re.findall(r"pip install ([^\\&\n]+)", dockerfile)}
    assert installs == {
        "--only-binary=:all: -r image-requirements.txt",
        "--no-deps --ignore-requires-python rapidocr_onnxruntime==1.4.4",
        "--no-deps .",
    }
    service = tomllib.loads((ADDON / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert canonicalize_name(service["name"]) == "anpr-inference"
    assert tools_name not in _pins(ADDON / "image-requirements.txt")
    assert tools_name not in _runtime_closure()
    assert "inference_tools" not in dockerfile


def test_s6_service_layout() -> None:
    service = S6 / "anpr-inference"
    assert (service / "type").read_text(encoding="utf-8").strip() == "longrun"
    assert (service / "dependencies.d" / "base").is_file()
    assert (S6 / "user" / "contents.d" / "anpr-inference").is_file()
    for script in ("run", "finish"):
        path = service / script
        assert os.access(path, os.X_OK), f"{path} must be executable"
        assert path.read_text(encoding="utf-8").startswith("#!/command/with-contenv bashio\n")
    run = (service / "run").read_text(encoding="utf-8")
    assert re.search(
        r"exec anpr-inference serve\s+\\\s+--options /data/options.json\s+\\\s+"
        r"--data-dir /data\s+\\\s+--model-dir /data/models\s*$",
        run,
    ), run
    assert "/run/s6/basedir/bin/halt" in (service / "finish").read_text(encoding="utf-8")
