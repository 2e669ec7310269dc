"""The API contract: one definition, copied byte for byte into the integration.

`inference_addon/anpr_inference/contract.py` (with `wire.py`, its field machinery) is the
canonical definition the service answers with and documents; the integration ships its own
copy because it is installed alone (HACS). `script/sync-contract` makes the copy; these tests
fail while it is stale, and keep the contract importable by a client (standard library only).
"""

from __future__ import annotations

import ast
from pathlib import Path
import sys

import pytest

from anpr_inference import contract as service_contract
from anpr_inference.openapi import build_openapi
from custom_components.anpr import api, contract

ROOT = Path(__file__).parents[2]
COPIED = ("contract.py", "wire.py")


@pytest.mark.parametrize("name", COPIED)
def test_the_integration_copy_is_the_service_file(name: str) -> None:
    source = ROOT / "inference_addon" / "anpr_inference" / name
    copy = ROOT / "custom_components" / "anpr" / name
    assert copy.read_bytes() == source.read_bytes(), f"run script/sync-contract ({name})"


@pytest.mark.parametrize("name", COPIED)
def test_the_contract_imports_only_the_standard_library(name: str) -> None:
    tree = ast.parse((ROOT / "inference_addon" / "anpr_inference" / name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: its sibling copied with it
                assert node.module in {"wire", None}, node.module
                continue
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert roots <= sys.stdlib_module_names, roots


def test_the_client_has_no_home_assistant_imports() -> None:
    tree = ast.parse(Path(api.__file__).read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith("homeassistant") for name in imported), imported


def test_answers_round_trip() -> None:
    """What the service's models send, the client's models read back as the same values."""
    plate = contract.PlateRead(
        text="AYO-9034",
        normalized="AYO9034",
        confidence=0.9,
        char_confidences=(0.9,) * 7,
        detection_confidence=0.8,
        box=contract.Box(1, 2, 3, 4),
        region="br",
        alternatives=tuple((contract.CharAlternative(c, 0.9),) for c in "AYO9034"),
        at_edge=False,
        incomplete=True,
        crop=b"\xff\xd8\xff",
    )
    recognition = contract.Recognition(
        plates=(plate,),
        image=contract.ImageSize(640, 480),
        timings_ms=dict.fromkeys(contract.TIMING_STAGES, 1.0),
        models=dict.fromkeys(contract.STAGES, "m"),
    )
    body = recognition.to_json()
    assert contract.Recognition.from_json(body, "recognition") == recognition
    assert service_contract.Recognition.from_json(body, "recognition").to_json() == body


def test_the_document_lists_every_model() -> None:
    document = build_openapi(
        version="0",
        regions=contract.REGIONS,
        auth_required=False,
        max_body_bytes=1,
        max_pixels=1,
        default_region=None,
        default_min_confidence=0.5,
    )
    schemas = document["components"]["schemas"]
    assert set(schemas) == {model.SCHEMA_NAME for model in contract.SCHEMAS}
    assert schemas["Plate"] == contract.PlateRead.json_schema()
