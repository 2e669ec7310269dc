"""`access.classify`: every kind of decision, and that each one explains itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from custom_components.anpr.access import Classification, classify
from custom_components.anpr.const import Category
from custom_components.anpr.evidence import PlateEvidence
from custom_components.anpr.matching import MatchReason
from custom_components.anpr.registry import PlateRegistry, async_get_registry

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
async def registry(hass: HomeAssistant) -> PlateRegistry:
    """Return a household: residents, a fleet, visitors with and without passes, a blocked car."""
    registry = await async_get_registry(hass, "access_test")
    registry.async_add("AYO9034", "Alice")
    registry.async_add("FLEET*", "Acme deliveries")
    registry.async_add("ABC123", "Carl")
    registry.async_add("ABD124", "Dora")
    registry.async_set_pass(
        "XYZ1234", "Bob", start=NOW - HOUR, end=NOW + HOUR, max_entries=2, now=NOW - HOUR
    )
    registry.async_set_pass(
        "VIS5678", "Vera", start=NOW - 3 * HOUR, end=NOW - 2 * HOUR, now=NOW - 4 * HOUR
    )
    registry.async_set_pass("LATER12", "Liam", start=NOW + HOUR, end=NOW + 2 * HOUR, now=NOW)
    registry.async_add("NOP4321", "Nora", Category.VISITOR)
    registry.async_add("BAD6666", "Mallory", Category.BLOCKED)
    registry.async_add("KLM456", "Eve")
    registry.async_add("KLN4S7", "Trudy", Category.BLOCKED)  # 2.5 from Eve's plate
    return registry


def decide(registry: PlateRegistry, plate: str) -> Classification:
    return classify(registry, plate, NOW)


async def test_resident_exact(registry: PlateRegistry) -> None:
    decision = decide(registry, "AYO9034")
    assert decision.category is Category.RESIDENT
    assert decision.access_granted
    assert (decision.owner, decision.matched_plate) == ("Alice", "AYO9034")
    assert (decision.match, decision.distance) == (MatchReason.EXACT, 0.0)
    assert decision.reason == "Resident Alice (AYO9034), exact match: access granted"
    assert decision.decision == (
        "The read AYO9034 equals the plate of entry 'AYO9034' (AYO9034): a sure match. "
        "The read is exactly AYO9034. AYO9034 belongs to the resident Alice: access granted."
    )
    assert decision.evidence == "supported"


async def test_resident_one_lookalike_text_only_is_named_not_granted(
    registry: PlateRegistry,
) -> None:
    """Issue 17 changed this: a look-alike read opened the gate; AY0-9034 may be another car.

    A text-only read (no alternatives) opens only when exact; the owner is still named.
    """
    decision = decide(registry, "ay0-9034")
    assert decision.category is Category.UNKNOWN
    assert not decision.access_granted
    assert (decision.owner, decision.matched_plate) == ("Alice", "AYO9034")
    assert decision.match is MatchReason.LOOKALIKE
    assert decision.distance == 0.5
    assert decision.evidence == "not_exact"
    assert decision.reason == (
        "Probably Alice's AYO9034, look-alike match, distance 0.5, but the image does not "
        "prove it: access denied"
    )
    assert "only an exact read of AYO9034 could open" in decision.decision


async def test_resident_lookalike_with_evidence(registry: PlateRegistry) -> None:
    """With alternatives: granted only when no plausible reading is another plate."""
    sure = (("A", 1.0),), (("Y", 1.0),), (("O", 0.99), ("0", 0.01)), *(((c, 1.0),) for c in "9034")
    decision = classify(registry, PlateEvidence("AYO9034", sure), NOW)
    assert decision.access_granted
    assert decision.decision.endswith(
        "The image supports AYO9034 and no other plate. AYO9034 belongs to the resident "
        "Alice: access granted."
    )
    # The image is unsure between O and 0: AY09034 is plausible and a different plate.
    unsure = (("A", 1.0),), (("Y", 1.0),), (("O", 0.7), ("0", 0.3)), *(((c, 1.0),) for c in "9034")
    decision = classify(registry, PlateEvidence("AYO9034", unsure), NOW)
    assert not decision.access_granted
    assert decision.evidence == "other_reading"
    assert "The image could also be AY09034 (30%), a different plate than AYO9034." in (
        decision.decision
    )
    # The top reading is the look-alike: the reported plate itself is a different plate.
    decision = classify(
        registry, PlateEvidence("AY09034", tuple(((c, 1.0),) for c in "AY09034")), NOW
    )
    assert (decision.category, decision.access_granted) == (Category.UNKNOWN, False)
    assert decision.owner == "Alice"


async def test_resident_near_read_is_named_but_unknown(registry: PlateRegistry) -> None:
    decision = decide(registry, "AYO9035")  # one real mistake: too uncertain for a gate
    assert decision.category is Category.UNKNOWN
    assert not decision.access_granted
    assert (decision.owner, decision.matched_plate) == ("Alice", "AYO9034")
    assert decision.match is MatchReason.NEAR
    assert decision.reason == (
        "Probably Alice's AYO9034, near match, distance 1: too uncertain, access denied"
    )
    assert "unknown vehicle, access denied" in decision.decision


async def test_fleet_wildcard(registry: PlateRegistry) -> None:
    decision = decide(registry, "FLEET42")
    assert decision.category is Category.RESIDENT
    assert decision.access_granted
    assert (decision.owner, decision.matched_plate) == ("Acme deliveries", "FLEET*")
    assert decision.reason == "Resident Acme deliveries (FLEET*), wildcard match: access granted"
    # No look-alike tolerance on patterns.
    assert decide(registry, "F1EET42").category is Category.UNKNOWN


async def test_visitor_with_a_valid_pass(registry: PlateRegistry) -> None:
    decision = decide(registry, "XYZ1234")
    assert decision.category is Category.VISITOR
    assert decision.access_granted
    assert decision.owner == "Bob"
    assert decision.reason.startswith("Visitor Bob (XYZ1234), exact match, has a visitor pass")
    assert decision.reason.endswith("2 entries left: access granted")


@pytest.mark.parametrize(
    ("plate", "why"),
    [
        ("VIS5678", "has a visitor pass that expired at"),
        ("LATER12", "has a visitor pass that is not valid before"),
        ("NOP4321", "has no visitor pass"),
    ],
)
async def test_visitor_without_a_valid_pass(registry: PlateRegistry, plate: str, why: str) -> None:
    """Known, named and reported as a visitor, but the gate does not open."""
    decision = decide(registry, plate)
    assert decision.category is Category.VISITOR
    assert not decision.access_granted
    assert decision.matched_plate == plate
    assert why in decision.reason
    assert decision.reason.endswith(": access denied")


async def test_visitor_pass_used_up(registry: PlateRegistry) -> None:
    registry.async_use_entry("XYZ1234", NOW)
    registry.async_use_entry("XYZ1234", NOW)
    decision = decide(registry, "XYZ1234")
    assert decision.category is Category.VISITOR
    assert not decision.access_granted
    assert "has used all 2 entries" in decision.reason


async def test_blocked(registry: PlateRegistry) -> None:
    exact = decide(registry, "BAD6666")
    assert exact.category is Category.BLOCKED
    assert not exact.access_granted
    assert exact.reason == "Blocked plate BAD6666 (Mallory), exact match: access denied"

    near = decide(registry, "BAD6667")  # one real edit: still the blocked car
    assert near.category is Category.BLOCKED
    assert not near.access_granted
    assert (near.owner, near.matched_plate, near.distance) == ("Mallory", "BAD6666", 1.0)
    assert near.reason == ("Blocked plate BAD6666 (Mallory), near match, distance 1: access denied")


async def test_ambiguous_with_a_blocked_entry_is_blocked(registry: PlateRegistry) -> None:
    # One real edit from Eve's plate, 1.5 from Trudy's: too close to both to tell them apart.
    decision = decide(registry, "KLM457")
    assert decision.category is Category.BLOCKED
    assert not decision.access_granted
    assert (decision.owner, decision.matched_plate) == ("Trudy", "KLN4S7")
    assert decision.match is MatchReason.AMBIGUOUS
    assert decision.reason == (
        "Ambiguous read KLM457 that could be the blocked plate KLN4S7 (Trudy): access denied"
    )
    assert "treated as the blocked car" in decision.decision


async def test_a_swapped_read_of_a_blocked_plate_is_blocked(registry: PlateRegistry) -> None:
    """Issue 13, item 10: FBZ9581 read at 0.999 for the blocked FZB9581 counted as unknown."""
    registry.async_add("FZB9581", "Oscar", Category.BLOCKED)
    decision = decide(registry, "FBZ9581")
    assert decision.category is Category.BLOCKED
    assert not decision.access_granted
    assert (decision.owner, decision.matched_plate, decision.distance) == ("Oscar", "FZB9581", 1.0)
    assert decision.reason == (
        "The read FBZ9581 is within one character or one swap of the blocked plate FZB9581 "
        "(Oscar), distance 1: access denied"
    )
    assert "treated as the blocked car" in decision.decision
    for read in ("FZB958", "FZB95811", "FZB5981", "F2B958I"):  # deletion, insertion, swap, 2 x 0.5
        assert decide(registry, read).category is Category.BLOCKED, read
    assert decide(registry, "BFZ9851").category is Category.UNKNOWN  # two swaps: out of reach


async def test_a_blocked_plate_wins_over_a_closer_entry(registry: PlateRegistry) -> None:
    """A blocked car inside a resident fleet: the fleet minus one, and reads near it."""
    registry.async_add("FLEET7", "Sacked driver", Category.BLOCKED)
    assert decide(registry, "FLEET7").category is Category.BLOCKED  # exact beats the pattern
    near = decide(registry, "FLEET8")  # a fleet plate, but one edit from the blocked one
    assert near.category is Category.BLOCKED
    assert not near.access_granted
    assert "within one character or one swap of the blocked plate FLEET7" in near.reason
    assert decide(registry, "FLEET42").access_granted  # out of reach: the fleet


async def test_a_resident_inside_a_fleet_pattern_is_still_let_in(
    registry: PlateRegistry,
) -> None:
    """Issue 13, item 1: `AYO*` beside Alice's AYO9034 made her an ambiguous unknown car."""
    registry.async_add("AYO*", "AYO fleet")
    alice = decide(registry, "AYO9034")
    assert alice.category is Category.RESIDENT
    assert alice.access_granted
    assert (alice.owner, alice.matched_plate, alice.match) == (
        "Alice",
        "AYO9034",
        MatchReason.EXACT,
    )
    fleet = decide(registry, "AYO1234")
    assert (fleet.owner, fleet.access_granted, fleet.match) == (
        "AYO fleet",
        True,
        MatchReason.WILDCARD,
    )
    registry.async_add("AZJ*", "AZJ fleet")
    registry.async_add("AZJ69*", "AZJ69 fleet", Category.VISITOR)
    assert decide(registry, "AZJ6912").owner == "AZJ69 fleet"  # the narrower pattern
    assert decide(registry, "AZJ7012").owner == "AZJ fleet"


async def test_a_blocked_pattern_wins_over_a_narrower_entry(hass: HomeAssistant) -> None:
    """A registry written before the check: a blocked pattern still blocks what it matches."""
    registry = await async_get_registry(hass, "old_registry")
    registry.async_add("BAD9*", "Blocked fleet", Category.BLOCKED)
    registry.async_add("BADX*", "Other fleet")
    registry._plates["BAD9034"] = replace(registry.plates["BADX*"], plate="BAD9034")
    registry._changed(save=False)
    decision = classify(registry, "BAD9034", NOW)
    assert decision.category is Category.BLOCKED
    assert decision.reason == (
        "The read BAD9034 matches the blocked pattern BAD9* (Blocked fleet): access denied"
    )


async def test_ambiguous_names_nobody(registry: PlateRegistry) -> None:
    decision = decide(registry, "ABC124")  # one edit from Carl's and one from Dora's
    assert decision.category is Category.UNKNOWN
    assert not decision.access_granted
    assert (decision.owner, decision.matched_plate) == (None, None)
    assert decision.match is MatchReason.AMBIGUOUS
    assert decision.reason == (
        "Ambiguous read ABC124: could be ABC123 (Carl) or ABD124 (Dora); access denied"
    )


async def test_unknown(registry: PlateRegistry) -> None:
    decision = decide(registry, "ZZZ0000")
    assert decision == Classification(
        category=Category.UNKNOWN,
        reason="ZZZ0000 is not in the plate registry",
        decision=decision.decision,
        match=MatchReason.NO_MATCH,
    )
    assert "matches nobody" in decision.decision
    assert decide(registry, "--").reason == "-- is not in the plate registry"


async def test_empty_registry(hass: HomeAssistant) -> None:
    registry = await async_get_registry(hass, "empty")
    decision = classify(registry, "AYO9034")
    assert decision.category is Category.UNKNOWN
    assert not decision.access_granted


@pytest.mark.parametrize(
    "plate",
    [
        "AYO9034",  # resident, exact
        "AY09034",  # resident, look-alike
        "AYO9035",  # near a resident: named, not sure
        "FLEET42",  # fleet pattern
        "XYZ1234",  # visitor with a pass
        "VIS5678",  # visitor whose pass expired: a sure match, yet denied
        "NOP4321",  # visitor without a pass
        "BAD6666",  # blocked
        "BAD6667",  # near a blocked plate
        "AB10CDE",  # ambiguous, one of them blocked
        "ABC124",  # ambiguous
        "ZZZ0000",  # unknown
    ],
)
async def test_decision_speaks_of_access_once(registry: PlateRegistry, plate: str) -> None:
    """The matcher says how sure; only the verdict at the end says whether access is granted.

    "...: access may be granted. ... access denied" read as a contradiction.
    """
    decision = decide(registry, plate)
    verdict = "access granted." if decision.access_granted else "access denied."
    assert decision.decision.endswith(verdict)
    assert decision.decision.count("access") == 1
    assert decision.decision.count("grant") == decision.access_granted
