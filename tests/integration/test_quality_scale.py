"""quality_scale.yaml answers every rule of the Integration Quality Scale, as hassfest asks.

Each rule is done, exempt (with the reason) or todo. The `docs-*` rules are answered by
README sections; the comments name them, and those sections must exist.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

import pytest
import yaml

from .hassfest_rules import ALL_RULES, QUALITY_SCALE_RULES, QUALITY_SCALE_SCHEMA

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rules() -> dict[str, Any]:
    text = (REPO / "custom_components" / "anpr" / "quality_scale.yaml").read_text(encoding="utf-8")
    data = QUALITY_SCALE_SCHEMA(yaml.safe_load(text))
    return data["rules"]  # type: ignore[no-any-return]


def status(value: Any) -> str:
    return str(value["status"] if isinstance(value, dict) else value)


def test_every_rule_is_answered(rules: dict[str, Any]) -> None:
    assert list(rules) == ALL_RULES, "every rule, in hassfest's order"


def test_bronze_to_gold_are_met(rules: dict[str, Any]) -> None:
    for tier in ("bronze", "silver", "gold", "platinum"):
        unmet = [rule for rule in QUALITY_SCALE_RULES[tier] if status(rules[rule]) == "todo"]
        assert not unmet, f"{tier}: {unmet}"


def test_docs_rules_point_at_readme_sections(rules: dict[str, Any]) -> None:
    headings = set(re.findall(r"^#+ (.+)$", (REPO / "README.md").read_text(encoding="utf-8"), re.M))
    for rule, value in rules.items():
        if rule.startswith("docs-") and isinstance(value, dict) and value["status"] == "done":
            for section in re.findall(r'README "([^"]+)"', value["comment"]):
                assert section in headings, f"{rule}: README has no section {section!r}"
