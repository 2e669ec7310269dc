"""Voting over a burst: one bad frame cannot win, several vehicles stay apart."""

from __future__ import annotations

import pytest

from custom_components.anpr.api import Box, PlateRead
from custom_components.anpr.voting import edit_distance, similar, vote


def read(
    text: str, confidence: float = 0.9, chars: list[float] | None = None, crop: bytes | None = None
) -> PlateRead:
    return PlateRead(
        text=text,
        normalized=text,
        confidence=confidence,
        char_confidences=tuple(chars if chars is not None else [confidence] * len(text)),
        detection_confidence=0.9,
        box=Box(0, 0, 10, 10),
        crop=crop,
    )


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("ABC123", "ABC123", 0), ("ABC123", "ABC128", 1), ("ABC123", "AB123", 1), ("", "ABC", 3)],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_similar() -> None:
    assert similar("AYO9034", "AY09034")
    assert similar("AYO9034", "AYO903")
    assert not similar("AYO9034", "XYZ1111")


def test_one_bad_frame_is_outvoted() -> None:
    # The middle frame misreads O as 0 with high confidence on that character.
    frames = [
        [read("AYO9034", 0.9)],
        [read("AY09034", 0.95, [0.95, 0.95, 0.99, 0.95, 0.95, 0.95, 0.95])],
        [read("AYO9034", 0.85)],
    ]
    (result,) = vote(frames)
    assert result.plate == "AYO9034"
    assert result.frames == 3
    # The disputed character's confidence shows the dissent.
    assert result.char_confidences[2] < result.char_confidences[0]
    assert 0 < result.confidence < 1


def test_length_vote_beats_a_dropped_character() -> None:
    frames = [[read("AYO9034")], [read("AYO904", 0.95)], [read("AYO9034")]]
    (result,) = vote(frames)
    assert result.plate == "AYO9034"
    # The short read lost the length vote, which lowers the overall confidence.
    assert result.confidence < 0.9


def test_characters_vote_by_summed_confidence() -> None:
    frames = [
        [read("ABC123", chars=[0.9, 0.9, 0.9, 0.9, 0.9, 0.3])],
        [read("ABC128", chars=[0.9, 0.9, 0.9, 0.9, 0.9, 0.4])],
        [read("ABC128", chars=[0.9, 0.9, 0.9, 0.9, 0.9, 0.4])],
    ]
    assert vote(frames)[0].plate == "ABC128"
    frames[0] = [read("ABC123", chars=[0.9, 0.9, 0.9, 0.9, 0.9, 0.95])]
    assert vote(frames)[0].plate == "ABC123"  # 0.95 > 0.4 + 0.4: confidence, not head count


def test_two_vehicles_stay_apart() -> None:
    frames = [
        [read("AYO9034", 0.9), read("XYZ1111", 0.8)],
        [read("AYO9034", 0.9), read("XYZ1111", 0.8)],
        [read("AYO9034", 0.9)],
    ]
    results = vote(frames)
    assert [r.plate for r in results] == ["AYO9034", "XYZ1111"]
    assert [r.frames for r in results] == [3, 2]


def test_one_read_per_frame_per_vehicle() -> None:
    # Two similar plates in the same frame are two vehicles, not two votes.
    frames = [[read("ABC123"), read("ABC124")]]
    assert sorted(r.plate for r in vote(frames)) == ["ABC123", "ABC124"]


def test_best_read_keeps_a_crop_of_the_winning_text() -> None:
    frames = [
        [read("AYO9034", 0.8, crop=b"a")],
        [read("AY09034", 0.99, chars=[0.99, 0.99, 0.3, 0.99, 0.99, 0.99, 0.99], crop=b"b")],
        [read("AYO9034", 0.9, crop=b"c")],
    ]
    (result,) = vote(frames)
    assert result.best.crop == b"c"


def test_empty_reads_are_ignored() -> None:
    assert vote([[read("")], []]) == []
