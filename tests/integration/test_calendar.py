"""The "Visitor passes" calendar: passes as events, and events that issue, edit and end passes.

Everything goes through Home Assistant's own calendar: its actions (`calendar.create_event`,
`calendar.get_events`) and the websocket commands the calendar UI sends
(`calendar/event/create`, `calendar/event/update`, `calendar/event/delete`). What they do is
checked in the plate registry (`anpr.list_plates`) and at the gate (`anpr.open_gate` after a
real camera's read), whose cover is the only thing mocked.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.components.calendar.const import DATA_COMPONENT as CALENDAR_COMPONENT
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import Context
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.anpr.calendar import parse_plate, pass_event
from custom_components.anpr.const import CONF_GATE, DOMAIN, Category
from custom_components.anpr.registry import RegisteredPlate, RegistryError

from .conftest import CAMERA, GATE, camera_options
from .fakes import INSTANCE_ID

if TYPE_CHECKING:
    from aiohttp.test_utils import TestClient
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant, ServiceCall
    from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
    from pytest_homeassistant_custom_component.typing import (
        ClientSessionGenerator,
        MockHAClientWebSocket,
        WebSocketGenerator,
    )

CALENDAR = "calendar.anpr_127_0_0_1_visitor_passes"
PLATE = "AYO9034"  # what the fake service reads off the camera's photo
HOUR = timedelta(hours=1)
RECURRING = "Visitor passes do not repeat: add one event for each visit"
GONE = "This visitor pass no longer exists: it was removed or purged after it expired"
SIMILAR = (
    "A812CDE differs from AB12CDE (Alice) only by look-alike characters: reads could not tell "
    "them apart, so neither would open the gate"
)
NO_PLATE = (
    'No licence plate found in "Grandma". Write the plate in brackets, "Grandma (XY98 ZZZ)", '
    'as the last word, "Grandma XY98ZZZ", or on a line "Plate: XY98ZZZ" of the description'
)


@pytest.fixture
def cameras_options() -> dict[str, dict[str, Any]]:
    """Watch the driveway camera, whose gate is `cover.gate`."""
    return {CAMERA: camera_options(**{CONF_GATE: GATE})}


@pytest.fixture
async def http(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> TestClient:
    """Connect to the HTTP API, where the calendar UI reads events (with their uid)."""
    return await hass_client()


@pytest.fixture
async def client(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> MockHAClientWebSocket:
    """Connect to the websocket API as the calendar UI does (as the admin user)."""
    return await hass_ws_client(hass)


def local(value: datetime) -> str:
    """Return a time as the calendar UI sends it: local, with its offset."""
    return dt_util.as_local(value).replace(microsecond=0).isoformat()


async def plates(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Return the plate registry, read through its action."""
    response = await hass.services.async_call(
        DOMAIN, "list_plates", {}, blocking=True, return_response=True
    )
    assert response is not None
    return list(response["plates"])  # type: ignore[call-overload]


async def events(
    hass: HomeAssistant, start: datetime | None = None, duration: timedelta = 48 * HOUR
) -> list[dict[str, Any]]:
    """Return the calendar's events, read through `calendar.get_events`."""
    data: dict[str, Any] = {ATTR_ENTITY_ID: CALENDAR, "duration": duration}
    if start is not None:
        data["start_date_time"] = start
    response = await hass.services.async_call(
        "calendar", "get_events", data, blocking=True, return_response=True
    )
    assert response is not None
    return list(response[CALENDAR]["events"])  # type: ignore[call-overload]


async def uid_of(http: TestClient, summary: str) -> str:
    """Return the uid of an event, read as the calendar UI does (`/api/calendars/<entity>`)."""
    now = dt_util.now()
    month = 30 * 24 * HOUR
    response = await http.get(
        f"/api/calendars/{CALENDAR}",
        params={"start": (now - month).isoformat(), "end": (now + month).isoformat()},
    )
    assert response.status == 200
    [uid] = [event["uid"] for event in await response.json() if event["summary"] == summary]
    assert isinstance(uid, str)
    return uid


async def create_event(hass: HomeAssistant, context: Context | None = None, **data: Any) -> None:
    """Call `calendar.create_event` on the visitor-pass calendar."""
    await hass.services.async_call(
        "calendar",
        "create_event",
        {ATTR_ENTITY_ID: CALENDAR, **data},
        blocking=True,
        context=context,
    )


async def ws(client: MockHAClientWebSocket, command: str, **data: Any) -> dict[str, Any]:
    """Send a calendar command as the calendar UI does; return the answer."""
    await client.send_json_auto_id({"type": f"calendar/event/{command}", **data})
    answer: dict[str, Any] = await client.receive_json()
    return answer


async def ws_ok(client: MockHAClientWebSocket, command: str, **data: Any) -> None:
    answer = await ws(client, command, **data)
    assert answer["success"], answer


async def ws_error(client: MockHAClientWebSocket, command: str, **data: Any) -> str:
    """Send a command the calendar must refuse; return the (translated) message."""
    answer = await ws(client, command, **data)
    assert not answer["success"], answer
    assert answer["error"]["code"] == "failed"
    message: str = answer["error"]["message"]
    return message


async def scan(hass: HomeAssistant) -> None:
    """Let the camera's car arrive: one burst."""
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)


async def open_gate(hass: HomeAssistant) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "open_gate", {"camera": CAMERA}, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def state(hass: HomeAssistant) -> Any:
    current = hass.states.get(CALENDAR)
    assert current is not None
    return current


# --- the entity ----------------------------------------------------------------------------


@pytest.mark.usefixtures("loaded_entry")
async def test_the_calendar_is_on_the_service_device(hass: HomeAssistant) -> None:
    """Its device and its emptiness; its names, state and features are in `test_snapshots`."""
    entry = er.async_get(hass).async_get(CALENDAR)
    assert entry is not None
    device = dr.async_get(hass).async_get(entry.device_id)
    assert device is not None
    assert device.identifiers == {(DOMAIN, INSTANCE_ID)}
    assert await events(hass) == []


@pytest.mark.usefixtures("loaded_entry")
async def test_passes_given_otherwise_are_events(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_admin_user: MockUser
) -> None:
    """A pass issued by the action shows, with who issued it; the state follows the pass."""
    start = dt_util.now().replace(microsecond=0) + HOUR
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {
            "plate": "xy-98 zzz",
            "name": "Grandma",
            "start": start,
            "duration": {"hours": 2},
            "max_entries": 2,
            "notes": "Sunday lunch",
        },
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": "AB12CDE", "name": "Alice"}, blocking=True
    )
    [event] = await events(hass)
    assert event == {
        "start": start.isoformat(),
        "end": (start + 2 * HOUR).isoformat(),
        "summary": "Grandma (XY98ZZZ)",
        "description": "2 of 2 entries left, created by Mock User.\n\nSunday lunch",
    }
    assert state(hass).state == STATE_OFF
    assert state(hass).attributes["message"] == "Grandma (XY98ZZZ)"

    # The calendar's own alarms switch it on while the pass is in force, and off after.
    await advance(hass, freezer, 90 * timedelta(minutes=1))
    assert state(hass).state == STATE_ON
    await advance(hass, freezer, 2 * HOUR)
    assert state(hass).state == STATE_OFF
    # An expired pass stays in the calendar for as long as the registry keeps it.
    [expired] = await events(hass, start=start - HOUR)
    assert expired["summary"] == "Grandma (XY98ZZZ)"

    # Unknown users and calls without one create passes without a creator.
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {"plate": "GR4NDMA", "name": "Gran", "duration": {"hours": 1}},
        blocking=True,
        context=Context(user_id="no-such-user"),
    )
    [gran] = await events(hass)
    assert gran["description"] == "Unlimited entries."
    assert state(hass).state == STATE_ON
    assert state(hass).attributes["message"] == "Gran (GR4NDMA)"


# --- the calendar's actions, and the gate --------------------------------------------------


async def test_a_pass_from_the_calendar_opens_the_gate(  # noqa: PLR0917 - fixtures
    hass: HomeAssistant,
    client: MockHAClientWebSocket,
    http: TestClient,
    gate_calls: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    now = dt_util.now().replace(microsecond=0)
    await create_event(
        hass,
        Context(user_id=hass_admin_user.id),
        summary="Grandma (ayo-90 34)",
        description="Sunday lunch",
        start_date_time=now - timedelta(minutes=5),
        end_date_time=now + 2 * HOUR,
    )
    [visitor] = await plates(hass)
    assert visitor["plate"] == PLATE
    assert visitor["name"] == "Grandma"
    assert visitor["category"] == "visitor"
    assert visitor["notes"] == "Sunday lunch"
    assert visitor["pass"] == "valid"
    assert (visitor["max_entries"], visitor["entries_left"]) == (None, None)
    assert dt_util.parse_datetime(visitor["valid_until"]) == now + 2 * HOUR
    [event] = await events(hass, start=now - HOUR)
    assert event["summary"] == f"Grandma ({PLATE})"
    assert event["description"] == "Unlimited entries, created by Mock User.\n\nSunday lunch"
    assert state(hass).state == STATE_ON
    uid = await uid_of(http, event["summary"])

    await scan(hass)
    opened = await open_gate(hass)
    assert (opened["category"], opened["name"]) == ("visitor", "Grandma")
    assert len(gate_calls) == 1

    # Moved to tomorrow in the calendar UI: the next visit is refused.
    tomorrow = now + 24 * HOUR
    await ws_ok(
        client,
        "update",
        entity_id=CALENDAR,
        uid=uid,
        event={
            "summary": event["summary"],
            "description": event["description"],
            "dtstart": local(tomorrow),
            "dtend": local(tomorrow + 3 * HOUR),
        },
    )
    [visitor] = await plates(hass)
    assert visitor["pass"] == "pending"
    assert visitor["notes"] == "Sunday lunch"  # the lines the calendar wrote are not notes
    await advance(hass, freezer, timedelta(minutes=10))
    await scan(hass)
    with pytest.raises(ServiceValidationError) as refused:
        await open_gate(hass)
    assert refused.value.translation_key == "access_denied"
    assert "not valid before" in refused.value.translation_placeholders["reason"]
    [moved] = await events(hass)
    assert moved["start"] == local(tomorrow)
    assert await uid_of(http, moved["summary"]) == uid

    # Deleted: the visitor is gone, and the car is unknown again.
    await ws_ok(client, "delete", entity_id=CALENDAR, uid=uid)
    assert await plates(hass) == []
    assert await events(hass) == []
    await advance(hass, freezer, timedelta(minutes=10))
    await scan(hass)
    with pytest.raises(ServiceValidationError) as refused:
        await open_gate(hass)
    assert (
        refused.value.translation_placeholders["reason"] == f"{PLATE} is not in the plate registry"
    )
    assert len(gate_calls) == 1


async def test_the_calendar_ui_creates_edits_and_deletes_passes(
    hass: HomeAssistant, client: MockHAClientWebSocket, http: TestClient
) -> None:
    now = dt_util.now().replace(microsecond=0)
    await ws_ok(
        client,
        "create",
        entity_id=CALENDAR,
        event={
            "summary": "Plumber",
            "description": "Boiler\nPlate: XY98 ZZZ",
            "dtstart": local(now + HOUR),
            "dtend": local(now + 3 * HOUR),
        },
    )
    [plumber] = await plates(hass)
    assert (plumber["plate"], plumber["name"]) == ("XY98ZZZ", "Plumber")
    assert plumber["notes"] == "Boiler\nPlate: XY98 ZZZ"
    [event] = await events(hass)
    assert event["summary"] == "Plumber (XY98ZZZ)"
    # The websocket user (the admin of the test) is who created it.
    assert event["description"].startswith("Unlimited entries, created by Mock User.\n\n")
    uid = await uid_of(http, event["summary"])

    # Another plate and name, written the other way; the uid stays.
    await ws_ok(
        client,
        "update",
        entity_id=CALENDAR,
        uid=uid,
        event={
            "summary": "Electrician XY98ZZA",
            "dtstart": local(now + HOUR),
            "dtend": local(now + 4 * HOUR),
        },
    )
    [electrician] = await plates(hass)
    assert (electrician["plate"], electrician["name"]) == ("XY98ZZA", "Electrician")
    assert electrician["notes"] is None
    [changed] = await events(hass)
    assert changed["summary"] == "Electrician (XY98ZZA)"
    assert await uid_of(http, changed["summary"]) == uid
    assert changed["end"] == local(now + 4 * HOUR)

    await ws_ok(client, "delete", entity_id=CALENDAR, uid=uid)
    assert await plates(hass) == []
    message = await ws_error(client, "delete", entity_id=CALENDAR, uid=uid)
    assert message == GONE


async def test_a_pass_given_by_the_action_is_edited_in_the_calendar(
    hass: HomeAssistant, client: MockHAClientWebSocket, http: TestClient
) -> None:
    """A letters-only plate (the action allows it) reads back from its own summary."""
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {"plate": "GRANDMA", "name": "Gran", "duration": {"hours": 2}, "max_entries": 3},
        blocking=True,
    )
    [event] = await events(hass)
    assert event["summary"] == "Gran (GRANDMA)"
    later = dt_util.now().replace(microsecond=0) + 5 * HOUR
    await ws_ok(
        client,
        "update",
        entity_id=CALENDAR,
        uid=await uid_of(http, event["summary"]),
        event={
            "summary": event["summary"],
            "description": event["description"],
            "dtstart": local(later),
            "dtend": local(later + HOUR),
        },
    )
    [gran] = await plates(hass)
    assert (gran["plate"], gran["name"], gran["entries_left"]) == ("GRANDMA", "Gran", 3)
    assert dt_util.parse_datetime(gran["valid_from"]) == later


async def test_an_all_day_event_covers_the_local_days(
    hass: HomeAssistant, client: MockHAClientWebSocket
) -> None:
    await hass.config.async_set_time_zone("Europe/London")
    first = dt_util.now().date() + timedelta(days=1)
    await ws_ok(
        client,
        "create",
        entity_id=CALENDAR,
        event={
            "summary": "Grandma XY98ZZZ",
            "dtstart": first.isoformat(),
            "dtend": (first + timedelta(days=2)).isoformat(),  # the end date is exclusive
        },
    )
    [visitor] = await plates(hass)
    valid_from = dt_util.parse_datetime(visitor["valid_from"])
    valid_until = dt_util.parse_datetime(visitor["valid_until"])
    assert valid_from == dt_util.start_of_local_day(first)
    assert valid_until == dt_util.start_of_local_day(first + timedelta(days=2))
    [event] = await events(hass, duration=96 * HOUR)
    assert (event["start"], event["end"]) == (
        first.isoformat(),
        (first + timedelta(days=2)).isoformat(),
    )

    # The action's whole days too (its end date is exclusive as well).
    await create_event(
        hass,
        summary="Gran (GR4 NDMA)",
        start_date=first,
        end_date=first + timedelta(days=1),
    )
    gran = next(plate for plate in await plates(hass) if plate["plate"] == "GR4NDMA")
    assert dt_util.parse_datetime(gran["valid_until"]) == dt_util.start_of_local_day(
        first + timedelta(days=1)
    )


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"summary": "Grandma"},
            NO_PLATE,
        ),
        (
            {"summary": "Grandma", "description": "Arrives at 3pm for lunch"},
            NO_PLATE,
        ),
        (
            {"summary": "Weekly visit XY98ZZZ", "rrule": "FREQ=WEEKLY"},
            RECURRING,
        ),
        ({"summary": "Alice AB12CDE"}, "AB12CDE is already registered to Alice (resident)"),
        ({"summary": "Cousin A812CDE"}, SIMILAR),
    ],
)
async def test_refused_events_change_nothing(
    hass: HomeAssistant,
    client: MockHAClientWebSocket,
    event: dict[str, Any],
    message: str,
) -> None:
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": "AB12CDE", "name": "Alice"}, blocking=True
    )
    now = dt_util.now()
    error = await ws_error(
        client,
        "create",
        entity_id=CALENDAR,
        event={"dtstart": local(now + HOUR), "dtend": local(now + 2 * HOUR), **event},
    )
    assert error == message
    assert [plate["plate"] for plate in await plates(hass)] == ["AB12CDE"]
    assert await events(hass) == []


@pytest.mark.usefixtures("loaded_entry")
async def test_refusals_are_translated_errors(hass: HomeAssistant) -> None:
    now = dt_util.now()
    window = {"start_date_time": now + HOUR, "end_date_time": now + 2 * HOUR}
    with pytest.raises(ServiceValidationError) as info:
        await create_event(hass, summary="Grandma", **window)
    assert info.value.translation_domain == DOMAIN
    assert info.value.translation_key == "calendar_no_plate"
    assert info.value.translation_placeholders == {"summary": "Grandma"}

    with pytest.raises(ServiceValidationError) as info:
        await create_event(
            hass,
            summary="Grandma XY98ZZZ",
            start_date_time=now - 3 * HOUR,
            end_date_time=now - 2 * HOUR,
        )
    assert info.value.translation_key == "pass_in_past"

    # A visitor has one pass at a time: a second event must not move the first.
    await create_event(hass, summary="Grandma XY98ZZZ", **window)
    with pytest.raises(ServiceValidationError) as info:
        await create_event(hass, summary="Grandma (XY98 ZZZ)", description="again", **window)
    assert info.value.translation_key == "calendar_pass_exists"
    assert str(info.value).startswith("XY98ZZZ (Grandma) already has a visitor pass until ")
    assert len(await events(hass)) == 1


async def test_a_visitor_whose_pass_ended_gets_a_new_one(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    now = dt_util.now().replace(microsecond=0)
    await create_event(
        hass, summary="Grandma XY98ZZZ", start_date_time=now, end_date_time=now + HOUR
    )
    registry = loaded_entry.runtime_data.registry
    first = registry.plates["XY98ZZZ"].uid
    await advance(hass, freezer, 2 * HOUR)
    later = dt_util.now().replace(microsecond=0)
    await create_event(
        hass, summary="Gran XY98ZZZ", start_date_time=later, end_date_time=later + HOUR
    )
    [renewed] = await events(hass, start=now - HOUR)
    assert renewed["summary"] == "Gran (XY98ZZZ)"
    assert registry.plates["XY98ZZZ"].uid == first  # the same visitor entry
    assert renewed["start"] == local(later)


async def test_recurring_and_unknown_events_are_refused(
    hass: HomeAssistant, client: MockHAClientWebSocket, http: TestClient
) -> None:
    now = dt_util.now().replace(microsecond=0)
    await create_event(
        hass, summary="Grandma XY98ZZZ", start_date_time=now, end_date_time=now + HOUR
    )
    [event] = await events(hass)
    uid = await uid_of(http, event["summary"])
    change = {"summary": "Grandma XY98ZZZ", "dtstart": local(now), "dtend": local(now + HOUR)}
    for command, data, message in (
        ("update", {"uid": uid, "event": {**change, "rrule": "FREQ=DAILY"}}, RECURRING),
        ("delete", {"uid": uid, "recurrence_id": "20990101T000000"}, RECURRING),
        ("update", {"uid": "nope", "event": change}, GONE),
        ("update", {"uid": uid, "event": {**change, "summary": "Grandma"}}, NO_PLATE),
    ):
        assert await ws_error(client, command, entity_id=CALENDAR, **data) == message
    [unchanged] = await events(hass)
    assert unchanged == event


async def test_the_calendar_stays_while_the_service_is_down(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    coordinator = loaded_entry.runtime_data.coordinator
    coordinator.last_update_success = False
    coordinator.async_update_listeners()
    assert hass.states.get("binary_sensor.anpr_127_0_0_1_connectivity") is not None
    assert state(hass).state == STATE_OFF  # not unavailable


async def test_a_pass_created_without_a_caller_has_no_creator(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Neither an action call nor the calendar UI (another integration, say): no creator."""
    calendar = hass.data[CALENDAR_COMPONENT].get_entity(CALENDAR)
    assert calendar is not None
    now = dt_util.now()
    await calendar.async_create_event(
        summary="Grandma XY98ZZZ", dtstart=now + HOUR, dtend=now + 2 * HOUR
    )
    assert loaded_entry.runtime_data.registry.plates["XY98ZZZ"].created_by is None


# --- reading plates in event text ----------------------------------------------------------


@pytest.mark.parametrize(
    ("summary", "description", "expected"),
    [
        ("Grandma (XY98ZZZ)", None, ("XY98ZZZ", "Grandma")),
        ("Grandma (XY-98 ZZZ)", None, ("XY98ZZZ", "Grandma")),
        ("Grandma XY98ZZZ", None, ("XY98ZZZ", "Grandma")),
        ("Grandma XY-98-ZZZ", None, ("XY98ZZZ", "Grandma")),
        ("Grandma - XY98ZZZ", None, ("XY98ZZZ", "Grandma")),
        ("XY98ZZZ", None, ("XY98ZZZ", "XY98ZZZ")),
        ("(XY98ZZZ)", None, ("XY98ZZZ", "XY98ZZZ")),
        ("Grandma (mum's mum) XY98ZZZ", None, ("XY98ZZZ", "Grandma (mum's mum)")),
        ("Grandma (room 2) (XY98ZZZ)", None, ("XY98ZZZ", "Grandma (room 2)")),
        ("Grandma (XY98ZZZ) for lunch", None, ("XY98ZZZ", "Grandma for lunch")),
        ("Grandma", "XY98ZZZ", ("XY98ZZZ", "Grandma")),
        ("Grandma", "Sunday lunch\nPlate: XY98 ZZZ", ("XY98ZZZ", "Grandma")),
        ("Grandma", "licence plate: GRANDMA", ("GRANDMA", "Grandma")),
        ("", "XY98ZZZ", ("XY98ZZZ", "XY98ZZZ")),
        ("Grandma XY98ZZZ", "Plate: AB12CDE", ("XY98ZZZ", "Grandma")),
    ],
)
def test_accepted_forms(summary: str, description: str | None, expected: tuple[str, str]) -> None:
    assert parse_plate(summary, description) == expected


@pytest.mark.parametrize(
    ("summary", "description"),
    [
        ("Grandma", None),
        ("Grandma", ""),
        ("Room 12", None),  # digits only: a number, not a plate
        ("Grandma (mum's mum)", None),  # letters only in brackets: a remark
        ("Grandma", "Arrives at 3pm for lunch"),  # a plate-like word inside a sentence
        ("Grandma", "2 of 2 entries left, created by R2D2."),
    ],
)
def test_text_without_a_plate(summary: str, description: str | None) -> None:
    with pytest.raises(ServiceValidationError) as info:
        parse_plate(summary, description)
    assert info.value.translation_key == "calendar_no_plate"


@pytest.mark.parametrize("plate", ["GRANDMA", "FLEET*"])
def test_an_edited_event_reads_back_its_own_plate(plate: str) -> None:
    """Letters only or a pattern (given by the action): the pass's own summary reads back."""
    assert parse_plate(f"Gran ({plate})", None, current=plate) == (plate, "Gran")
    with pytest.raises(ServiceValidationError):
        parse_plate(f"Gran ({plate})", None)
    with pytest.raises(ServiceValidationError):
        parse_plate("Gran (A*)", None, current=plate)  # not a plate at all: a remark


def test_an_invalid_plate_gets_the_registry_error() -> None:
    with pytest.raises(RegistryError) as info:
        parse_plate("Grandma (XY98ZZZXY98ZZZXY98ZZZ)", None)
    assert info.value.translation_key == "invalid_plate"


def test_event_of_a_pass_without_a_start() -> None:
    """Passes issued before they had a start begin when they were issued, or at their end."""
    end = datetime(2099, 1, 1, 12, 30, tzinfo=dt_util.UTC)
    added = end - 5 * HOUR
    entry = RegisteredPlate(
        plate="XY98ZZZ", name="XY98ZZZ", category=Category.VISITOR, valid_until=end, added=added
    )
    event = pass_event(entry)
    assert (event.start, event.end, event.summary) == (
        dt_util.as_local(added),
        dt_util.as_local(end),
        "XY98ZZZ",
    )
    assert pass_event(replace(entry, added=None)).start == dt_util.as_local(end)
