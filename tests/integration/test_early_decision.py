"""Issue 17, part 5: a visit is decided on the burst's first frames when they let the car in.

The fake service answers each frame of a three-frame burst in turn; what the bus saw when is
recorded by counting the frames the service had been asked for at each visit event.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_ENTITY_ID
import pytest

from custom_components.anpr.const import DOMAIN, EVENT_PLATE_DETECTED

from .conftest import CAMERA
from .fakes import Answer, alternatives_of, plate_json, recognition_json

if TYPE_CHECKING:
    from homeassistant.core import Event, HomeAssistant

    from .fakes import FakeAnprService

SURE = recognition_json(plate_json("AYO9034", alternatives=alternatives_of("AYO9034", 0.99)))


def frames(*answers: dict[str, Any]) -> list[Answer]:
    return [Answer(200, answer) for answer in answers]


async def burst(
    hass: HomeAssistant, anpr_service: FakeAnprService, *answers: dict[str, Any]
) -> list[tuple[int, dict[str, Any]]]:
    """Register Alice and Mallory, scan once; return (frames asked for, data) per event."""
    for plate, name, category in (("AYO9034", "Alice", "resident"), ("BAD6666", "M", "blocked")):
        await hass.services.async_call(
            DOMAIN, "add_plate", {"plate": plate, "name": name, "category": category}, blocking=True
        )
    seen: list[tuple[int, dict[str, Any]]] = []

    def record(event: Event[dict[str, Any]]) -> None:
        seen.append((len(anpr_service.recognize_requests), dict(event.data)))

    hass.bus.async_listen(EVENT_PLATE_DETECTED, record)
    anpr_service.recognize_answers += frames(*answers)
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
    await hass.async_block_till_done()
    return seen


@pytest.mark.usefixtures("loaded_entry")
async def test_a_sure_resident_is_let_in_after_two_of_three_frames(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    seen = await burst(hass, anpr_service, SURE, SURE, SURE)
    assert [(asked, data["access_granted"]) for asked, data in seen] == [(2, True)]
    assert len(anpr_service.recognize_requests) == 3  # the rest of the burst is still read
    state = hass.states.get("sensor.driveway_last_plate")
    assert state is not None
    assert state.attributes["frames"] == 3  # and recorded


@pytest.mark.usefixtures("loaded_entry")
async def test_an_unknown_car_waits_for_the_whole_burst(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    stranger = recognition_json(plate_json("XYZ1234", alternatives=alternatives_of("XYZ1234")))
    seen = await burst(hass, anpr_service, stranger, stranger, stranger)
    assert [(asked, data["category"]) for asked, data in seen] == [(3, "unknown")]


@pytest.mark.usefixtures("loaded_entry")
async def test_a_contradicting_last_frame_is_recorded_and_alerts(
    hass: HomeAssistant, anpr_service: FakeAnprService, caplog: pytest.LogCaptureFixture
) -> None:
    """The third frame sees 0 where the first two saw O: the final vote is unsure."""
    other = [[(c, 1.0)] for c in "AY09034"]
    contradicting = recognition_json(plate_json("AYO9034", alternatives=[
        [("O", 0.05), ("0", 0.95)] if i == 2 else options for i, options in enumerate(other)
    ]))  # fmt: skip
    with caplog.at_level(logging.WARNING):
        seen = await burst(hass, anpr_service, SURE, SURE, contradicting)
    assert [(asked, data["access_granted"]) for asked, data in seen] == [(2, True), (3, False)]
    assert seen[0][1]["plate"] == seen[1][1]["plate"] == "AYO9034"
    assert "The image could also be AY09034" in seen[1][1]["decision"]
    assert "contradicts the early decision for AYO9034" in caplog.text
    event = hass.states.get("event.driveway_vehicle")
    assert event is not None
    assert event.attributes["access_granted"] is False  # what the gate would now re-check


@pytest.mark.usefixtures("loaded_entry")
async def test_a_blocked_car_in_a_later_frame_is_recorded_and_alerts(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    both = recognition_json(
        plate_json("AYO9034", alternatives=alternatives_of("AYO9034", 0.99)),
        plate_json("BAD6666", alternatives=alternatives_of("BAD6666", 0.99), box=(10, 10, 90, 40)),
    )
    seen = await burst(hass, anpr_service, SURE, SURE, both)
    assert [(asked, data["plate"], data["category"]) for asked, data in seen] == [
        (2, "AYO9034", "resident"),
        (3, "BAD6666", "blocked"),
    ]


async def test_an_early_visit_keeps_its_pictures(
    hass: HomeAssistant, anpr_service: FakeAnprService, loaded_entry: Any
) -> None:
    """The visit decided on the first frames is kept with the frame and crop it was read in."""
    seen = await burst(hass, anpr_service, SURE, SURE, SURE)
    assert [asked for asked, _ in seen] == [2]
    [visit] = loaded_entry.runtime_data.history.visits
    assert visit.snapshot is not None
    assert visit.crop is not None
