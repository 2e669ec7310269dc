"""The evidence rule on its own: plausible readings, refusals with their reasons, combining."""

from __future__ import annotations

from custom_components.anpr.api import Box, CharAlternative, PlateRead
from custom_components.anpr.evidence import (
    MAX_READINGS,
    PLAUSIBLE,
    PlateEvidence,
    Verdict,
    combine,
    plausible_readings,
    supports,
)
from custom_components.anpr.voting import vote


def sure(plate: str) -> tuple[tuple[tuple[str, float], ...], ...]:
    return tuple(((c, 1.0),) for c in plate)


def only(plate: str):
    return lambda reading: reading == plate


def test_a_clear_read_supports_its_plate_only() -> None:
    evidence = PlateEvidence("AB12CDE", sure("AB12CDE"), frames=3)
    assert supports(evidence, "AB12CDE", only("AB12CDE")).supported
    refusal = supports(evidence, "AB12COE", only("AB12COE"))
    assert (refusal.verdict, refusal.other) == (Verdict.OTHER_READING, "AB12CDE")


def test_an_unsure_position_makes_both_readings_plausible() -> None:
    alternatives = list(sure("AB12COE"))
    alternatives[5] = (("O", 0.6), ("D", 0.39))
    evidence = PlateEvidence("AB12COE", tuple(alternatives))
    assert [r for r, _ in plausible_readings(evidence) or []] == ["AB12COE", "AB12CDE"]
    refusal = supports(evidence, "AB12COE", only("AB12COE"))
    assert refusal.other == "AB12CDE"
    assert refusal.explanation == (
        "The image could also be AB12CDE (39%), a different plate than AB12COE."
    )
    # Below the plausibility threshold the other letter is not a reading.
    alternatives[5] = (("O", 1 - PLAUSIBLE / 2), ("D", PLAUSIBLE / 2 - 0.001))
    assert supports(PlateEvidence("AB12COE", tuple(alternatives)), "AB12COE", only("AB12COE"))


def test_unlisted_probability_and_too_many_readings_are_unsure() -> None:
    alternatives = list(sure("AB12CDE"))
    alternatives[0] = (("A", 0.9), ("4", 0.05))  # 5% nobody listed
    assert plausible_readings(PlateEvidence("AB12CDE", tuple(alternatives))) is None
    wide = tuple(((c, 0.5), ("X", 0.25), ("Y", 0.25)) for c in "AB12CDE")
    assert MAX_READINGS < 3**7
    assert supports(PlateEvidence("AB12CDE", wide), "AB12CDE", only("AB12CDE")).verdict is (
        Verdict.UNSURE
    )


def test_text_only_incomplete_and_short_plates() -> None:
    assert supports(PlateEvidence("AB12CDE"), "AB12CDE", only("AB12CDE")).supported
    assert supports(PlateEvidence("AB12CD3"), "AB12CDE", only("AB12CDE")).verdict is (
        Verdict.NOT_EXACT
    )
    cut = PlateEvidence("AB12CDE", sure("AB12CDE"), incomplete=True)
    assert supports(cut, "AB12CDE", only("AB12CDE")).verdict is Verdict.INCOMPLETE
    assert supports(PlateEvidence("JO"), "JO", only("JO")).verdict is Verdict.SHORT_PLATE
    assert supports(PlateEvidence("JO", frames=2), "JO", only("JO")).supported
    # Misaligned alternatives count as none.
    assert not PlateEvidence("AB", (("X", 1.0),), frames=2).has_alternatives


def test_a_pattern_entry_speaks_for_all_its_readings() -> None:
    alternatives = list(sure("TAXI12"))
    alternatives[5] = (("2", 0.7), ("7", 0.3))
    evidence = PlateEvidence("TAXI12", tuple(alternatives))
    assert supports(evidence, "TAXI*", lambda reading: reading.startswith("TAXI")).supported


def test_combine_averages_and_keeps_the_voted_character_first() -> None:
    combined = combine(
        [
            (
                "AB1",
                (("A", 1.0),),
            ),
            ("AB1", ()),
        ],  # type: ignore[list-item]
        "AB1",
    )
    assert combined == ()  # a read without alternatives makes the whole text-only
    one = (("A", 1.0),), (("B", 0.9), ("8", 0.1)), (("1", 1.0),)
    two = (("A", 1.0),), (("8", 0.6), ("B", 0.4)), (("1", 1.0),)
    assert combine([("AB1", one), ("A81", two)], "AB1")[1] == (("B", 0.65), ("8", 0.35))


def plate_read(text: str, alternatives: tuple[tuple[tuple[str, float], ...], ...]) -> PlateRead:
    return PlateRead(
        text=text,
        normalized=text,
        confidence=0.9,
        char_confidences=(0.9,) * len(text),
        detection_confidence=0.9,
        box=Box(0, 0, 10, 10),
        alternatives=tuple(tuple(CharAlternative(c, p) for c, p in pos) for pos in alternatives),
    )


def test_vote_gives_the_burst_evidence() -> None:
    """Two frames read AB12COE surely, one sees D: D keeps a third of its weight."""
    clear = plate_read("AB12COE", sure("AB12COE"))
    other = plate_read("AB12CDE", sure("AB12CDE"))
    voted = vote([[clear], [clear], [other]])[0]
    assert voted.plate == "AB12COE"
    assert voted.evidence.frames == 2
    assert voted.evidence.alternatives[5] == (("O", 0.6667), ("D", 0.3333))
    assert supports(voted.evidence, "AB12COE", only("AB12COE")).other == "AB12CDE"
