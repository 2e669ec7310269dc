"""The dashboard card's websocket API: visits, the plate registry and passes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_ENTITY_ID
import pytest

from custom_components.anpr.const import DOMAIN
from custom_components.anpr.registry import async_get_registry

from .conftest import CAMERA
from .fakes import FakeAnprService, plate_json, recognition_json

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import (
        ClientSessionGenerator,
        MockHAClientWebSocket,
        WebSocketGenerator,
    )


async def scan(hass: HomeAssistant) -> None:
    """Scan the test camera and wait until the visit and its pictures are kept."""
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
    await hass.async_block_till_done()


async def call(client: MockHAClientWebSocket, command: str, **data: Any) -> dict[str, Any]:
    """Send one command and return the whole answer."""
    await client.send_json_auto_id({"type": command, **data})
    answer: dict[str, Any] = await client.receive_json()
    return answer


@pytest.fixture
async def client(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> MockHAClientWebSocket:
    """Return a websocket connection of an administrator."""
    return await hass_ws_client(hass)


async def test_visits_list_with_pictures_filters_and_pages(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    client: MockHAClientWebSocket,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    await scan(hass)
    anpr_service.default_recognition = recognition_json(plate_json("XYZ9876", 0.8, crop=None))
    await scan(hass)
    entry_id = loaded_entry.entry_id

    answer = await call(client, "anpr/visits/list", entry_id=entry_id)
    assert answer["success"], answer
    newest, oldest = answer["result"]["visits"]
    assert answer["result"]["more"] is False
    assert (newest["plate"], oldest["plate"]) == ("XYZ9876", "AYO9034")
    assert oldest["camera_name"] == "Driveway"
    assert oldest["category"] == "unknown"
    assert oldest["reason"]
    # The crop as the service sent it, the frame downscaled; signed, so an <img> can load it.
    assert "authSig=" in oldest["crop"]
    assert "authSig=" in oldest["snapshot"]
    assert newest["crop"] is None  # this read came without a crop
    http = await hass_client_no_auth()
    response = await http.get(oldest["snapshot"])
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    assert (await response.read()).startswith(b"\xff\xd8")
    assert (await http.get(oldest["snapshot"].split("?")[0])).status == 401

    page = await call(client, "anpr/visits/list", entry_id=entry_id, limit=1)
    assert [v["plate"] for v in page["result"]["visits"]] == ["XYZ9876"]
    assert page["result"]["more"] is True
    rest = await call(client, "anpr/visits/list", entry_id=entry_id, before=newest["id"])
    assert [v["plate"] for v in rest["result"]["visits"]] == ["AYO9034"]

    for filters, plates in (
        ({"camera": CAMERA}, ["XYZ9876", "AYO9034"]),
        ({"camera": "camera.elsewhere"}, []),
        ({"category": "resident"}, []),
        ({"start": "2000-01-01T00:00:00+00:00"}, ["XYZ9876", "AYO9034"]),
        ({"end": "2000-01-01T00:00:00+00:00"}, []),
    ):
        answer = await call(client, "anpr/visits/list", entry_id=entry_id, **filters)
        assert [v["plate"] for v in answer["result"]["visits"]] == plates, filters


async def test_subscription_sends_new_visits_with_pictures(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, client: MockHAClientWebSocket
) -> None:
    answer = await call(client, "anpr/visits/subscribe", entry_id=loaded_entry.entry_id)
    assert answer["success"], answer
    await scan(hass)
    event = await client.receive_json()
    assert event["type"] == "event"
    visit = event["event"]["visit"]
    assert visit["plate"] == "AYO9034"
    assert visit["crop"] is not None
    assert visit["snapshot"] is not None

    await client.send_json_auto_id({"type": "unsubscribe_events", "subscription": answer["id"]})
    assert (await client.receive_json())["success"]


async def test_plates_subscription_follows_every_change(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, client: MockHAClientWebSocket
) -> None:
    answer = await call(client, "anpr/plates/subscribe", entry_id=loaded_entry.entry_id)
    assert answer["success"], answer
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": "AYO9034", "name": "Alice"}, blocking=True
    )
    event = await client.receive_json()
    assert (event["id"], event["event"]) == (answer["id"], {"changed": True})


async def test_plates_add_list_update_remove_and_pass(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, client: MockHAClientWebSocket
) -> None:
    entry_id = loaded_entry.entry_id
    await scan(hass)  # AYO9034, unknown
    added = await call(client, "anpr/plates/add", entry_id=entry_id, plate="ayo 9034", name="Alice")
    assert added["success"], added
    assert added["result"]["plate"]["plate"] == "AYO9034"
    await scan(hass)  # the same visit (cooldown): still the first record

    listed = await call(client, "anpr/plates/list", entry_id=entry_id)
    [alice] = listed["result"]["plates"]
    assert (alice["name"], alice["category"]) == ("Alice", "resident")

    updated = await call(
        client, "anpr/plates/update", entry_id=entry_id, plate="AYO9034", name="Alice B."
    )
    assert updated["result"]["plate"]["name"] == "Alice B."
    passed = await call(
        client,
        "anpr/passes/add",
        entry_id=entry_id,
        plate="QRS1234",
        name="Plumber",
        duration={"hours": 2},
        max_entries=1,
    )
    assert passed["success"], passed
    assert passed["result"]["plate"]["pass"] == "valid"
    assert passed["result"]["plate"]["entries_left"] == 1

    removed = await call(client, "anpr/plates/remove", entry_id=entry_id, plate="AYO9034")
    assert removed["success"]
    registry = await async_get_registry(hass, entry_id)
    assert set(registry.plates) == {"QRS1234"}


async def test_last_seen_of_a_registered_plate(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, client: MockHAClientWebSocket
) -> None:
    entry_id = loaded_entry.entry_id
    await call(client, "anpr/plates/add", entry_id=entry_id, plate="AYO9034", name="Alice")
    await scan(hass)
    [alice] = (await call(client, "anpr/plates/list", entry_id=entry_id))["result"]["plates"]
    assert alice["last_seen"] is not None


@pytest.mark.parametrize(
    "case",
    [
        ("anpr/plates/add", {"plate": "!!", "name": "X"}, "home_assistant_error",
         "invalid_plate", "is not a valid plate"),
        ("anpr/plates/add", {"plate": "AYO9034"}, "invalid_format",
         "invalid_input", "Invalid name: required key not provided"),
        ("anpr/plates/add", {"plate": "AYO9034", "name": "X", "category": "unknown"},
         "invalid_format", "invalid_input", "Invalid category"),
        ("anpr/plates/remove", {"plate": "AAA1111"}, "home_assistant_error",
         "unknown_plate", "AAA1111"),
        ("anpr/passes/add", {"plate": "AAA1111", "name": "X"}, "home_assistant_error",
         "end_or_duration_required", ""),
        ("anpr/visits/list", {"limit": 0}, "invalid_format", "invalid_input", "Invalid limit"),
        ("anpr/visits/list", {"before": "nope"}, "home_assistant_error", "unknown_visit",
         "nope"),
    ],
)  # fmt: skip
async def test_bad_input_gets_translated_errors(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    client: MockHAClientWebSocket,
    case: tuple[str, dict[str, Any], str, str, str],
) -> None:
    """Each case: the command, its data, the error code, translation key, message part."""
    command, data, code, key, text = case
    answer = await call(client, command, entry_id=loaded_entry.entry_id, **data)
    assert not answer["success"]
    error = answer["error"]
    assert (error["code"], error["translation_key"]) == (code, key)
    assert error["translation_domain"] == DOMAIN
    assert text in error["message"]
    assert error["message"] != key  # translated, not the bare key


async def test_unknown_entry_and_non_admin(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    client: MockHAClientWebSocket,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    answer = await call(client, "anpr/plates/list", entry_id="nope")
    assert answer["error"]["translation_key"] == "entry_not_found"

    user = await hass_ws_client(hass, hass_read_only_access_token)
    listed = await call(user, "anpr/visits/list", entry_id=loaded_entry.entry_id)
    assert listed["success"]  # reading is for every user
    for command, data in (
        ("anpr/plates/add", {"plate": "AYO9034", "name": "Alice"}),
        ("anpr/plates/update", {"plate": "AYO9034", "name": "Alice"}),
        ("anpr/plates/remove", {"plate": "AYO9034"}),
        ("anpr/passes/add", {"plate": "AYO9034", "name": "Alice", "duration": "01:00:00"}),
    ):
        answer = await call(user, command, entry_id=loaded_entry.entry_id, **data)
        assert answer["error"]["code"] == "unauthorized", command
    assert not (await async_get_registry(hass, loaded_entry.entry_id)).plates
