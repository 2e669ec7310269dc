"""Issue 17, input: Cyrillic twins, other scripts, short plates, broad patterns, stored conflicts.

Through the actions, the options flow and a stored registry, as a user meets them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.anpr.const import DOMAIN, Category
from custom_components.anpr.patterns import (
    MAX_PATTERN_RATE,
    clean_plate_input,
    pattern_match_rate,
)
from custom_components.anpr.registry import PlateRegistry, RegistryError, async_get_registry

from .test_options_registry import (  # noqa: F401 - the fixtures of the options flow tests
    entry,
    open_menu,
    registry,
    submit,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

CYRILLIC_AB12CDE = "\u0410\u041212\u0421D\u0415"  # A, Ve, Es and Ie typed in Cyrillic


def test_cyrillic_twins_become_latin_letters() -> None:
    assert clean_plate_input(CYRILLIC_AB12CDE) == "AB12CDE"
    assert clean_plate_input("\u0430\u0432-12") == "AB-12"  # lower case too


@pytest.mark.parametrize("character", ["\u0414", "\u0416", "\u03a9", "\u00c9", "\u0660"])
async def test_other_scripts_are_refused_not_dropped(
    registry: PlateRegistry,  # noqa: F811
    character: str,
) -> None:
    """De, Zhe, Omega, E acute, an Arabic-Indic zero: none is a plate character."""
    with pytest.raises(RegistryError) as info:
        registry.async_add(f"AB{character}12", "Alice")
    assert info.value.translation_key == "non_latin_plate"
    assert info.value.translation_placeholders == {
        "plate": f"AB{character}12",
        "character": character,
    }
    assert not registry.plates


async def test_cyrillic_plate_is_stored_as_latin(registry: PlateRegistry) -> None:  # noqa: F811
    registry.async_add(CYRILLIC_AB12CDE, "Alice")
    assert list(registry.plates) == ["AB12CDE"]


async def test_plates_under_two_characters_are_refused(
    registry: PlateRegistry,  # noqa: F811
) -> None:
    with pytest.raises(RegistryError) as info:
        registry.async_add("7", "Seven")
    assert info.value.translation_key == "plate_too_short"
    registry.async_add("JO", "Jo")  # two characters may be registered (but see the opening rule)
    registry.async_add("X", "Banned", Category.BLOCKED)  # a blocked one only ever shuts the gate


@pytest.mark.parametrize(
    ("pattern", "broad"),
    [("*1*2*3*", True), ("*123*", True), ("A*B*C", True), ("AYO*", False), ("AB??CDE", False)],
)
async def test_patterns_broader_than_one_in_ten_thousand_are_refused(
    registry: PlateRegistry,  # noqa: F811
    pattern: str,
    *,
    broad: bool,
) -> None:
    assert (pattern_match_rate(pattern) > MAX_PATTERN_RATE) is broad
    if not broad:
        registry.async_add(pattern, "Fleet")
        return
    with pytest.raises(RegistryError) as info:
        registry.async_add(pattern, "Fleet")
    assert info.value.translation_key == "pattern_too_broad"
    assert info.value.translation_placeholders is not None
    assert info.value.translation_placeholders["plate"] == pattern


@pytest.mark.usefixtures("loaded_entry")
async def test_action_refuses_non_latin_with_a_translated_error(hass: HomeAssistant) -> None:
    with pytest.raises(ServiceValidationError) as info:
        await hass.services.async_call(
            DOMAIN, "add_plate", {"plate": "AB\u041412", "name": "Alice"}, blocking=True
        )
    assert (info.value.translation_domain, info.value.translation_key) == (
        DOMAIN,
        "non_latin_plate",
    )
    assert "AB\u041412 contains \u0414, which is not a letter or digit" in str(info.value)


async def test_options_flow_refuses_non_latin_and_short(
    hass: HomeAssistant,
    entry: MockConfigEntry,  # noqa: F811
    registry: PlateRegistry,  # noqa: F811
) -> None:
    registry.async_add("AYO9034", "Alice")
    result = await open_menu(hass, entry, "add_plate")
    for typed, error in (("AB\u041412", "non_latin_plate"), ("7", "plate_too_short")):
        result = await submit(hass, result, {"plate": typed, "name": "Nina"})
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"plate": error}
    result = await submit(hass, result, {"plate": CYRILLIC_AB12CDE, "name": "Nina"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert sorted(registry.plates) == ["AB12CDE", "AYO9034"]


def stored_registry(entry_id: str, plates: list[str]) -> dict[str, Any]:
    return {
        "version": 1,
        "minor_version": 3,
        "key": f"{DOMAIN}.registry.{entry_id}",
        "data": {
            "plates": [
                {"plate": plate, "name": f"Owner of {plate}", "category": "resident", "uid": plate}
                for plate in plates
            ]
        },
    }


async def test_stored_conflicts_raise_a_repair_issue(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry, camera: str
) -> None:
    """A registry stored before the checks: look-alike pairs, a one-character plate."""
    hass_storage[f"{DOMAIN}.registry.{config_entry.entry_id}"] = stored_registry(
        config_entry.entry_id, ["AB12COE", "AB12CDE", "AYO9034", "7", "*1*2*3*"]
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    issue_id = f"registry_conflicts_{config_entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "registry_conflicts"
    assert issue.translation_placeholders == {
        "entry": config_entry.title,
        "entries": "*1*2*3*, 7, AB12CDE / AB12COE",
    }
    # Mending the registry clears it.
    stored = await async_get_registry(hass, config_entry.entry_id)
    for plate in ("AB12COE", "7", "*1*2*3*"):
        stored.async_remove(plate)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await hass.config_entries.async_unload(config_entry.entry_id)
