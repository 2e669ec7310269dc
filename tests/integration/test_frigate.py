"""The Frigate source end to end: a real MQTT broker, Frigate-shaped messages, a fake Frigate API.

Messages are shaped like Frigate's documented ones (`docs/docs/integrations/mqtt.md`) and like
its code sends them (`recognized_license_plate` as a `[plate, score]` pair). Frigate's HTTP API
is outside the box: a small aiohttp server on 127.0.0.1 serves the snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from homeassistant.components import mqtt
from homeassistant.core import callback
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.anpr.const import (
    CONF_FRIGATE_CAMERA,
    CONF_FRIGATE_URL,
    CONF_GATE,
    CONF_OPEN_GATE,
    CONF_SOURCE_KIND,
    CONF_SOURCES,
    DOMAIN,
    EVENT_PLATE_DETECTED,
)
from custom_components.anpr.sources.frigate_payload import (
    NotAPlate,
    parse_event,
    parse_message,
    parse_tracked_object_update,
)

from .conftest import GATE
from .mqtt_broker import publish, wait_until_subscribed
from .test_sources import add_plate, open_gate

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from homeassistant.core import Event, HomeAssistant, ServiceCall

SOURCE = "frigate:driveway"
SNAPSHOT = b"\xff\xd8\xff\xe0" + b"frigate snapshot" + b"\0" * 32


def lpr_update(
    plate: str,
    *,
    camera: str = "driveway",
    event_id: str = "1607123955.475377-mxklsc",
    score: float = 0.95,
    name: str | None = None,
) -> dict[str, Any]:
    """Return a `tracked_object_update` of `type: lpr`, as Frigate's MQTT docs show it."""
    return {
        "type": "lpr",
        "id": event_id,
        "name": name,
        "plate": plate,
        "score": score,
        "camera": camera,
        "timestamp": 1607123958.748393,
        "plate_box": [917, 487, 1029, 529],
    }


def event_message(
    plate: Any,
    *,
    camera: str = "driveway",
    score: float | None = 0.933451,
    event_id: str = "1607123955.475377-abcdef",
) -> dict[str, Any]:
    """Return a `frigate/events` update of a car whose `after` has a recognised plate."""
    after: dict[str, Any] = {
        "id": event_id,
        "camera": camera,
        "frame_time": 1607123962.082975,
        "label": "car",
        "sub_label": None,
        "top_score": 0.958984375,
        "false_positive": False,
        "start_time": 1607123955.475377,
        "end_time": None,
        "score": 0.87890625,
        "current_zones": ["driveway"],
        "entered_zones": ["driveway"],
        "has_snapshot": True,
        "recognized_license_plate": plate,
    }
    if score is not None:
        after["recognized_license_plate_score"] = score
    return {"type": "update", "before": {**after, "recognized_license_plate": None}, "after": after}


# --- the parser ----------------------------------------------------------------------------------


def test_parses_frigates_documented_shapes() -> None:
    found = parse_tracked_object_update(json.dumps(lpr_update("123ABC")))
    assert (found.camera, found.plate, found.score, found.event_id) == (
        "driveway",
        "123ABC",
        0.95,
        "1607123955.475377-mxklsc",
    )
    documented = parse_event(json.dumps(event_message("ABC12345")))
    assert (documented.plate, documented.score) == ("ABC12345", 0.933451)
    # As Frigate's code sends it: the attribute is a (plate, score) pair.
    sent = parse_event(json.dumps(event_message(["ABC12345", 0.91], score=None)))
    assert (sent.plate, sent.score) == ("ABC12345", 0.91)
    via_topic = parse_message("nvr/events", json.dumps(event_message("X1")), "nvr")
    assert via_topic.plate == "X1"


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("frigate/tracked_object_update", b"\xff\xfe not utf-8"),
        ("frigate/tracked_object_update", "not json"),
        ("frigate/tracked_object_update", "[1, 2]"),
        ("frigate/tracked_object_update", '{"type": "face", "id": "1", "name": "John"}'),
        ("frigate/tracked_object_update", '{"type": "lpr", "camera": "driveway"}'),
        ("frigate/tracked_object_update", '{"type": "lpr", "plate": 12, "camera": "d"}'),
        ("frigate/events", '{"type": "new", "after": null}'),
        ("frigate/events", '{"type": "new", "after": {"camera": "driveway"}}'),
        ("frigate/events", '{"after": {"camera": "d", "recognized_license_plate": {"a": 1}}}'),
        ("frigate/stats", "{}"),
    ],
)
def test_rejects_what_is_not_a_plate(topic: str, payload: str | bytes) -> None:
    with pytest.raises(NotAPlate):
        parse_message(topic, payload, "frigate")


# --- end to end ----------------------------------------------------------------------------------


@pytest.fixture
async def frigate_api(socket_enabled: None) -> AsyncGenerator[tuple[str, list[str]]]:
    """Run a fake Frigate API on 127.0.0.1 that serves snapshots; yield its URL and requests."""
    requests: list[str] = []

    async def snapshot(request: web.Request) -> web.Response:
        requests.append(request.path_qs)
        return web.Response(body=SNAPSHOT, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/api/events/{event_id}/snapshot.jpg", snapshot)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", requests
    await runner.cleanup()


@pytest.fixture
def config_entry(
    config_entry: MockConfigEntry, frigate_api: tuple[str, list[str]], mqtt_entry: MockConfigEntry
) -> MockConfigEntry:
    """Add the Frigate camera `driveway` as a source allowed to open the gate."""
    source = {
        CONF_SOURCE_KIND: "frigate",
        CONF_FRIGATE_CAMERA: "driveway",
        CONF_FRIGATE_URL: frigate_api[0],
        CONF_GATE: GATE,
        CONF_OPEN_GATE: True,
    }
    return MockConfigEntry(
        domain=DOMAIN,
        title=config_entry.title,
        unique_id=config_entry.unique_id,
        data=dict(config_entry.data),
        options={**config_entry.options, CONF_SOURCES: {SOURCE: source}},
    )


async def next_visit(hass: HomeAssistant, events: list[Event], count: int) -> None:
    """Wait until `count` visits were announced (the snapshot is fetched first)."""
    enough = asyncio.Event()

    @callback
    def _announced(_event: Event) -> None:
        if len(events) >= count:
            enough.set()

    unsubscribe = hass.bus.async_listen(EVENT_PLATE_DETECTED, _announced)
    try:
        if len(events) < count:
            async with asyncio.timeout(10):
                await enough.wait()
    finally:
        unsubscribe()
    await hass.async_block_till_done()


@pytest.fixture
async def subscribed(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> MockConfigEntry:
    """Wait until the source's subscriptions reach the broker."""
    await hass.async_block_till_done(wait_background_tasks=True)
    for topic in ("frigate/tracked_object_update", "frigate/events"):
        await wait_until_subscribed(hass, topic)
    return loaded_entry


async def test_a_residents_read_from_frigate_opens_the_gate(
    hass: HomeAssistant,
    subscribed: MockConfigEntry,
    gate_calls: list[ServiceCall],
    frigate_api: tuple[str, list[str]],
) -> None:
    await add_plate(hass, "AB12CDE", "Alice")
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    await publish(hass, "frigate/tracked_object_update", lpr_update("AB12CDE"))
    await next_visit(hass, events, 1)
    data = events[0].data
    assert (data["camera"], data["plate"], data["category"], data["owner"]) == (
        SOURCE,
        "AB12CDE",
        "resident",
        "Alice",
    )
    assert data["access_granted"] is True
    # The snapshot of the tracked object was fetched from Frigate's API for the picture.
    assert frigate_api[1] == ["/api/events/1607123955.475377-mxklsc/snapshot.jpg?crop=1"]
    # Frigate repeats the plate (refinements, event updates): still one visit.
    await publish(hass, "frigate/tracked_object_update", lpr_update("AB12CDE", score=0.97))
    await publish(hass, "frigate/events", event_message(["AB12CDE", 0.97], score=None))
    await wait_until_subscribed(hass, "frigate/events")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(events) == 1

    opening = await open_gate(hass, SOURCE)
    assert (opening["plate"], opening["forced"], opening["camera"]) == ("AB12CDE", False, SOURCE)
    assert len(gate_calls) == 1


async def test_an_unknown_vehicle_fires_the_unknown_event(
    hass: HomeAssistant, subscribed: MockConfigEntry, gate_calls: list[ServiceCall]
) -> None:
    """The vehicle event entity fires `unknown`: what the notification blueprint listens to."""
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    await publish(hass, "frigate/events", event_message("ZZ99ZZZ"))
    await next_visit(hass, events, 1)
    assert events[0].data["category"] == "unknown"
    vehicle = next(
        state
        for state in hass.states.async_all("event")
        if state.attributes.get("camera") == SOURCE
    )
    assert vehicle.attributes["event_type"] == "unknown"
    assert vehicle.attributes["plate"] == "ZZ99ZZZ"
    picture = next(
        state
        for state in hass.states.async_all("image")
        if state.entity_id.startswith("image.frigate_driveway")
    )
    assert picture.state != "unknown"
    assert gate_calls == []


async def test_other_cameras_and_malformed_messages_are_ignored(
    hass: HomeAssistant, subscribed: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.anpr")
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    for topic, payload in [
        ("frigate/tracked_object_update", lpr_update("AB12CDE", camera="backyard")),
        ("frigate/tracked_object_update", b"\xff\xfe not utf-8"),
        ("frigate/tracked_object_update", "not json"),
        ("frigate/tracked_object_update", {"type": "face", "id": "1", "name": "John"}),
        ("frigate/events", {"type": "end", "after": None}),
        ("frigate/events", event_message(None)),
        ("frigate/tracked_object_update", lpr_update("x" * 40, event_id="2")),
    ]:
        await publish(hass, topic, payload)
    await wait_until_subscribed(hass, "frigate/tracked_object_update")
    await wait_until_subscribed(hass, "frigate/events")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert events == []
    assert "ignored a message on frigate/tracked_object_update: not JSON" in caplog.text
    assert not [record for record in caplog.records if record.exc_info]


async def test_no_mqtt_no_frigate_step(hass: HomeAssistant) -> None:
    """The options flow asks for the MQTT integration before a Frigate source."""
    assert await async_setup_component(hass, "homeassistant", {})
    entry = MockConfigEntry(domain=DOMAIN, data={"url": "http://127.0.0.1:1"}, options={})
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "sources"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "add_frigate_source"}
    )
    assert result["reason"] == "mqtt_not_configured"
    assert mqtt.DOMAIN not in hass.config.components
