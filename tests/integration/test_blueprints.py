"""The automation blueprints, loaded, validated and run by Home Assistant's own code.

The static tests treat every blueprint as Home Assistant does when it is imported and again
when an automation uses it: the blueprint schema, every `!input` defined (and used), inputs
checked against their selectors, the substituted automation validated by the automation
integration.

The end-to-end tests run the blueprints in a real Home Assistant: a real camera and the anpr
integration against the fake inference service, real Companion app (`mobile_app`)
registrations whose pushes go to a fake push gateway on 127.0.0.1, and phones answering
through the app's real webhook. Only the gate (a cover: hardware outside the box) is mocked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
import logging
import shutil
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA,
    ValidationStatus,
    async_validate_config_item,
)
from homeassistant.components.blueprint.errors import MissingInput
from homeassistant.components.blueprint.models import Blueprint, BlueprintInputs
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.helpers import device_registry as dr, selector
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)
import voluptuous as vol

from custom_components.anpr.compat import async_get_device
from custom_components.anpr.const import CONF_GATE, DOMAIN

from .conftest import CAMERA, GATE, REPO, camera_options

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable
    from pathlib import Path

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant, ServiceCall, State
    from pytest_homeassistant_custom_component.common import MockUser
    from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
    from pytest_homeassistant_custom_component.typing import (
        ClientSessionGenerator,
        WebSocketGenerator,
    )

BLUEPRINTS = REPO / "blueprints" / "automation" / "anpr"
SOURCE_URL = "https://github.com/anpr-ha/anpr/blob/main/blueprints/automation/anpr/{}"
RAW_URL = "https://raw.githubusercontent.com/anpr-ha/anpr/main/blueprints/automation/anpr/{}"
"""What the README's "Import blueprint" links hand to Home Assistant."""
MIN_VERSION = "2025.4.0"

OPEN_GATE = "open_gate_for_authorised_vehicles.yaml"
UNKNOWN_VEHICLE = "unknown_vehicle_notification.yaml"
VISITOR_ARRIVED = "visitor_arrived.yaml"
PASS_REMINDER = "visitor_pass_reminder.yaml"

EVENT = "event.driveway_vehicle"
IMAGE = "image.driveway_last_plate_picture"
CALENDAR = "calendar.anpr_127_0_0_1_visitor_passes"
PLATE = "AYO9034"  # what the fake service reads off the camera's photo
AUTOMATION = "automation.blueprint_under_test"
SWITCH = "input_boolean.gate_automation"
ANSWER_EVENT = "mobile_app_notification_action"

REQUIRED_INPUTS = {
    OPEN_GATE: {"vehicle_events"},
    UNKNOWN_VEHICLE: {"vehicle_events", "notify_devices"},
    VISITOR_ARRIVED: {"vehicle_events"},
    PASS_REMINDER: {"calendar"},
}
"""The inputs a user must give; everything else has a default."""

FULL_INPUTS: dict[str, dict[str, Any]] = {
    OPEN_GATE: {
        "vehicle_events": [EVENT, "event.back_gate_vehicle"],
        "categories": ["resident", "visitor"],
        "start_time": "22:00:00",
        "end_time": "06:30:00",
        "extra_conditions": [{"condition": "state", "entity_id": SWITCH, "state": "on"}],
        "notify_devices": ["0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a"],
    },
    UNKNOWN_VEHICLE: {
        "vehicle_events": [EVENT],
        "notify_devices": ["0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a", "1d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5b"],
        "pass_duration": {"days": 2, "hours": 0, "minutes": 0, "seconds": 0},
        "pass_name": "Guest of {{ camera_name }}",
        "answer_timeout": {"minutes": 3},
        "clear_notification": False,
    },
    VISITOR_ARRIVED: {
        "vehicle_events": [EVENT],
        "notify_devices": ["0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a"],
        "notify_action": "notify.residents",
        "include_refused": True,
    },
    PASS_REMINDER: {
        "calendar": CALENDAR,
        "offset": {"hours": 1, "minutes": -30, "seconds": 0},
        "notify_devices": ["0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a"],
        "notify_action": "notify.residents",
    },
}
"""A value for every input of each blueprint, none of them the default."""


def load_blueprint(name: str) -> Blueprint:
    """Load a blueprint file the way Home Assistant's blueprint folder does."""
    data = yaml_util.load_yaml_dict(BLUEPRINTS / name)
    return Blueprint(
        data,
        expected_domain="automation",
        path=f"anpr/{name}",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


def use_blueprint(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Return an automation's configuration using a blueprint of the blueprint folder."""
    return {
        "id": "blueprint_under_test",
        "alias": "Blueprint under test",
        "use_blueprint": {"path": f"anpr/{name}", "input": inputs},
    }


@pytest.fixture
def blueprint_folder(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give Home Assistant a temporary config folder holding the repository's blueprints."""
    hass.config.config_dir = str(tmp_path)
    folder = tmp_path / "blueprints" / "automation" / "anpr"
    shutil.copytree(BLUEPRINTS, folder)
    return folder


# --- Static checks -------------------------------------------------------------------------


def test_blueprint_folder_holds_the_four_blueprints() -> None:
    assert {path.name for path in BLUEPRINTS.iterdir()} == {
        OPEN_GATE,
        UNKNOWN_VEHICLE,
        VISITOR_ARRIVED,
        PASS_REMINDER,
    }


@pytest.mark.parametrize("name", sorted(FULL_INPUTS))
def test_blueprint_is_valid_and_documented(name: str) -> None:
    blueprint = load_blueprint(name)  # the blueprint schema; every !input is defined
    assert blueprint.validate() is None  # this Home Assistant is recent enough

    metadata = blueprint.metadata
    assert metadata["domain"] == "automation"
    assert metadata["source_url"] == SOURCE_URL.format(name)
    assert metadata["homeassistant"]["min_version"] == MIN_VERSION
    assert metadata["name"].startswith("ANPR - ")
    assert len(metadata["description"]) > 200

    # Every input is used, documented and has a selector its default passes.
    assert yaml_util.extract_inputs(blueprint.data) == set(blueprint.inputs)
    for key, spec in blueprint.inputs.items():
        assert spec["name"], key
        assert spec["description"], key
        validate = vol.Schema(selector.selector(spec["selector"]))
        if "default" in spec:
            validate(spec["default"])
    required = {key for key, spec in blueprint.inputs.items() if "default" not in spec}
    assert required == REQUIRED_INPUTS[name]


@pytest.mark.parametrize("name", sorted(FULL_INPUTS))
async def test_every_input_makes_a_valid_automation(hass: HomeAssistant, name: str) -> None:
    blueprint = load_blueprint(name)
    inputs = FULL_INPUTS[name]
    assert set(inputs) == set(blueprint.inputs)
    for key, value in inputs.items():
        vol.Schema(selector.selector(blueprint.inputs[key]["selector"]))(value)

    blueprint_inputs = BlueprintInputs(
        blueprint, {"use_blueprint": {"path": f"anpr/{name}", "input": inputs}}
    )
    blueprint_inputs.validate()
    config = blueprint_inputs.async_substitute()

    validated = await async_validate_config_item(
        hass, "blueprint_under_test", {"id": "blueprint_under_test", **config}
    )
    assert validated is not None
    assert validated.validation_status is ValidationStatus.OK
    watched = inputs.get("vehicle_events", inputs.get("calendar"))
    trigger = validated["triggers"][0]
    # Newer Home Assistant (2026.10 at least) moves a calendar trigger's fields under `options`.
    assert trigger.get("entity_id", trigger.get("options", {}).get("entity_id")) == watched


@pytest.mark.usefixtures("blueprint_folder")
@pytest.mark.parametrize("name", sorted(FULL_INPUTS))
async def test_required_inputs_alone_make_a_valid_automation(
    hass: HomeAssistant, name: str
) -> None:
    """Through the blueprint folder, as an automation using the blueprint is validated."""
    inputs = {key: FULL_INPUTS[name][key] for key in REQUIRED_INPUTS[name]}
    validated = await async_validate_config_item(
        hass, "blueprint_under_test", use_blueprint(name, inputs)
    )
    assert validated is not None
    assert validated.validation_status is ValidationStatus.OK
    assert validated.raw_blueprint_inputs == use_blueprint(name, inputs)


@pytest.mark.usefixtures("blueprint_folder")
async def test_missing_required_input_is_reported(hass: HomeAssistant) -> None:
    with pytest.raises(MissingInput, match="notify_devices"):
        await async_validate_config_item(
            hass,
            "blueprint_under_test",
            use_blueprint(UNKNOWN_VEHICLE, {"vehicle_events": [EVENT]}),
        )


@pytest.mark.parametrize("name", sorted(FULL_INPUTS))
async def test_blueprint_imports_from_its_github_url(
    hass: HomeAssistant,
    tmp_path: Path,
    aioclient_mock: AiohttpClientMocker,
    hass_ws_client: WebSocketGenerator,
    name: str,
) -> None:
    """The README's import link: the frontend's import and save, then an automation uses it."""
    hass.config.config_dir = str(tmp_path)
    url = RAW_URL.format(name)
    aioclient_mock.get(url, text=(BLUEPRINTS / name).read_text(encoding="utf-8"))  # GitHub
    assert await async_setup_component(hass, "automation", {})
    client = await hass_ws_client(hass)

    await client.send_json_auto_id({"type": "blueprint/import", "url": url})
    imported = await client.receive_json()
    assert imported["success"], imported
    result = imported["result"]
    assert result["suggested_filename"] == f"anpr-ha/{name.removesuffix('.yaml')}"
    assert result["validation_errors"] is None
    assert result["exists"] is False
    assert result["blueprint"]["metadata"]["domain"] == "automation"

    await client.send_json_auto_id(
        {
            "type": "blueprint/save",
            "domain": "automation",
            "path": result["suggested_filename"],
            "yaml": result["raw_data"],
            "source_url": url,
        }
    )
    saved = await client.receive_json()
    assert saved["success"], saved
    path = f"{result['suggested_filename']}.yaml"
    assert (tmp_path / "blueprints" / "automation" / path).is_file()
    inputs = {key: FULL_INPUTS[name][key] for key in REQUIRED_INPUTS[name]}
    validated = await async_validate_config_item(
        hass, "imported", {"use_blueprint": {"path": path, "input": inputs}}
    )
    assert validated is not None
    assert validated.validation_status is ValidationStatus.OK


# --- End to end: the world around the blueprints -------------------------------------------


class PushGateway:
    """A fake push gateway: where the Companion app registrations send notifications."""

    def __init__(self) -> None:
        """Accept every push, like the app's relay server does."""
        self.received: list[dict[str, Any]] = []
        app = web.Application()
        app.router.add_post("/push", self._push)
        self._server = TestServer(app, host="127.0.0.1")

    @property
    def url(self) -> str:
        """The push URL a registration announces."""
        return str(self._server.make_url("/push"))

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        await self._server.start_server()

    async def close(self) -> None:
        """Stop listening."""
        await self._server.close()

    def to(self, phone: Phone) -> list[dict[str, Any]]:
        """Return the notifications pushed to `phone`, oldest first."""
        return [
            push
            for push in self.received
            if push["registration_info"]["webhook_id"] == phone.webhook_id
        ]

    async def _push(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        return web.json_response({}, status=201)


@dataclass(frozen=True)
class Phone:
    """A phone with the Companion app, registered with Home Assistant."""

    name: str
    webhook_id: str
    device_id: str
    """The device registry's id: what a device selector stores."""


@pytest.fixture
async def push_gateway(socket_enabled: None) -> AsyncGenerator[PushGateway]:
    """Run the fake push gateway."""
    gateway = PushGateway()
    await gateway.start()
    yield gateway
    await gateway.close()


@pytest.fixture
async def phones(
    hass: HomeAssistant, hass_admin_user: MockUser, push_gateway: PushGateway
) -> list[Phone]:
    """Register two phones with the real mobile_app integration, pushing to the gateway."""
    names = {"hook-alice": "Alice's Pixel", "hook-bob": "Bob iPhone"}
    entries: dict[str, str] = {}
    for webhook_id, name in names.items():
        phone_entry = MockConfigEntry(
            domain="mobile_app",
            title=name,
            data={
                "app_data": {"push_token": f"token-{webhook_id}", "push_url": push_gateway.url},
                "app_id": "io.homeassistant.companion.android",
                "app_name": "Home Assistant",
                "app_version": "2025.4.0",
                "device_id": f"device-{webhook_id}",
                "device_name": name,
                "manufacturer": "Acme",
                "model": "Phone",
                "os_name": "Android",
                "os_version": "15",
                "secret": f"secret-{webhook_id}",
                "supports_encryption": False,
                "user_id": hass_admin_user.id,
                "webhook_id": webhook_id,
            },
        )
        phone_entry.add_to_hass(hass)
        entries[webhook_id] = phone_entry.entry_id
    assert await async_setup_component(hass, "mobile_app", {})
    await hass.async_block_till_done()
    devices = dr.async_get(hass)
    registered = []
    for webhook_id, name in names.items():
        device = async_get_device(
            devices, ("mobile_app", f"device-{webhook_id}"), entries[webhook_id]
        )
        assert device is not None
        registered.append(Phone(name=name, webhook_id=webhook_id, device_id=device.id))
    assert hass.services.has_service("notify", "mobile_app_alice_s_pixel")
    assert hass.services.has_service("notify", "mobile_app_bob_iphone")
    return registered


@pytest.fixture
def cameras_options() -> dict[str, dict[str, Any]]:
    """Watch the driveway camera, whose gate is `cover.gate`."""
    return {CAMERA: camera_options(**{CONF_GATE: GATE})}


@pytest.fixture
async def anpr_world(
    hass: HomeAssistant, blueprint_folder: Path, loaded_entry: MockConfigEntry
) -> AsyncGenerator[None]:
    """Set up the anpr integration and the blueprint folder; stop every automation at the end.

    An automation still waiting for a phone's answer would otherwise keep the entry's
    teardown (`async_block_till_done`) waiting until its timeout ran out.
    """
    yield
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {ATTR_ENTITY_ID: "all"}, blocking=True
        )


def state(hass: HomeAssistant, entity_id: str) -> State:
    """Return an entity's state, which must exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current


def running(hass: HomeAssistant) -> int:
    """Return how many runs of the automation under test are in progress."""
    return int(state(hass, AUTOMATION).attributes["current"])


async def add_automation(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> None:
    """Create an automation from a blueprint of the (temporary) blueprint folder."""
    assert await async_setup_component(
        hass, "automation", {"automation": [use_blueprint(name, inputs)]}
    )
    await hass.async_block_till_done()
    assert state(hass, AUTOMATION).state == "on"


async def add_plate(hass: HomeAssistant, name: str, category: str, plate: str = PLATE) -> None:
    """Register a plate (by default the camera's)."""
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": plate, "name": name, "category": category}, blocking=True
    )


async def add_visitor_pass(hass: HomeAssistant, name: str) -> None:
    """Give the camera's plate a visitor pass valid for the next hour."""
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {"plate": PLATE, "name": name, "duration": {"hours": 1}},
        blocking=True,
    )


async def add_expired_visitor_pass(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, name: str
) -> None:
    """Give the camera's plate a visitor pass that has just expired (passes end in future)."""
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {"plate": PLATE, "name": name, "duration": {"minutes": 1}},
        blocking=True,
    )
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def list_plates(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Return the plate registry, read through its action."""
    response = await hass.services.async_call(
        DOMAIN, "list_plates", {}, blocking=True, return_response=True
    )
    assert response is not None
    plates: list[dict[str, Any]] = response["plates"]  # type: ignore[assignment]
    return plates


async def vehicle_arrives(hass: HomeAssistant) -> None:
    """Read the camera's plate (one burst); the automations it starts keep running."""
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)


async def until(predicate: Callable[[], bool]) -> None:
    """Let the event loop run until `predicate` holds.

    An automation waiting for a phone's answer keeps a task open, so `async_block_till_done`
    would wait for it too; the timeout only stops a broken test from hanging.
    """
    async with asyncio.timeout(10):
        while not predicate():  # noqa: ASYNC110 - nothing announces what is polled here
            await asyncio.sleep(0.01)


# --- End to end: open the gate for authorised vehicles -------------------------------------


@pytest.mark.usefixtures("anpr_world")
async def test_gate_opens_for_a_resident_and_the_phones_are_told(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
) -> None:
    await add_plate(hass, "Alice", "resident")
    await add_automation(
        hass,
        OPEN_GATE,
        {"vehicle_events": [EVENT], "notify_devices": [phone.device_id for phone in phones]},
    )
    opened = async_capture_events(hass, "anpr_gate_opened")

    await vehicle_arrives(hass)
    await hass.async_block_till_done()

    assert [call.data[ATTR_ENTITY_ID] for call in gate_calls] == [GATE]
    assert len(opened) == 1
    assert opened[0].data["plate"] == PLATE
    assert opened[0].data["forced"] is False
    for phone in phones:
        [push] = push_gateway.to(phone)
        assert push["title"] == "Driveway"
        assert push["message"] == f"Gate opened for Alice ({PLATE})"
        assert push["data"] == {"tag": f"anpr_gate_{CAMERA}"}


@pytest.mark.usefixtures("anpr_world")
async def test_gate_opens_for_a_visitor_when_visitors_may_enter(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
) -> None:
    await add_visitor_pass(hass, "Grandma")
    await add_automation(
        hass,
        OPEN_GATE,
        {
            "vehicle_events": [EVENT],
            "categories": ["resident", "visitor"],
            "notify_devices": [phones[0].device_id],
        },
    )

    await vehicle_arrives(hass)
    await hass.async_block_till_done()

    assert len(gate_calls) == 1
    assert [push["message"] for push in push_gateway.received] == [
        f"Gate opened for Grandma ({PLATE})"
    ]


@pytest.mark.parametrize(
    ("category", "inputs"),
    [
        pytest.param("visitor", {}, id="visitors-not-allowed"),
        pytest.param("expired", {"categories": ["resident", "visitor"]}, id="pass-expired"),
        pytest.param(None, {"categories": ["resident", "visitor"]}, id="unknown-plate"),
        pytest.param("blocked", {"categories": ["resident", "visitor"]}, id="blocked-plate"),
        pytest.param(
            "resident",
            {"start_time": "00:00:00", "end_time": "00:00:01"},
            id="outside-the-time-window",
        ),
        pytest.param(
            "resident",
            {"extra_conditions": [{"condition": "state", "entity_id": SWITCH, "state": "on"}]},
            id="extra-condition-fails",
        ),
    ],
)
@pytest.mark.usefixtures("anpr_world")
async def test_gate_stays_shut(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    *,
    category: str | None,
    inputs: dict[str, Any],
) -> None:
    if category == "visitor":
        await add_visitor_pass(hass, "Grandma")
    elif category == "expired":
        await add_expired_visitor_pass(hass, freezer, "Grandma")
    elif category is not None:
        await add_plate(hass, "Someone", category)
    hass.states.async_set(SWITCH, "off")
    if "start_time" in inputs:
        # A one-second window an hour away from now, whatever the time of the test run.
        start = (dt_util.now() + timedelta(hours=1)).replace(microsecond=0)
        inputs["start_time"] = start.strftime("%H:%M:%S")
        inputs["end_time"] = (start + timedelta(seconds=1)).strftime("%H:%M:%S")
    await add_automation(
        hass,
        OPEN_GATE,
        {"vehicle_events": [EVENT], "notify_devices": [phones[0].device_id], **inputs},
    )

    await vehicle_arrives(hass)
    await hass.async_block_till_done()

    assert gate_calls == []
    assert push_gateway.received == []


@pytest.mark.usefixtures("anpr_world")
async def test_gate_opens_inside_the_time_window_and_with_the_extra_condition(
    hass: HomeAssistant, gate_calls: list[ServiceCall]
) -> None:
    """Also: nobody to notify (the default) is fine."""
    await add_plate(hass, "Alice", "resident")
    hass.states.async_set(SWITCH, "on")
    start = (dt_util.now() - timedelta(hours=1)).strftime("%H:%M:%S")
    end = (dt_util.now() + timedelta(hours=1)).strftime("%H:%M:%S")
    await add_automation(
        hass,
        OPEN_GATE,
        {
            "vehicle_events": [EVENT],
            "start_time": start,
            "end_time": end,
            "extra_conditions": [{"condition": "state", "entity_id": SWITCH, "state": "on"}],
        },
    )

    await vehicle_arrives(hass)
    await hass.async_block_till_done()

    assert len(gate_calls) == 1


@pytest.mark.parametrize("cameras_options", [{CAMERA: camera_options()}])  # no gate
@pytest.mark.usefixtures("anpr_world")
async def test_refused_gate_tells_nobody(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`anpr.open_gate` refuses (this camera has no gate): no "opened" message, a log line."""
    await add_plate(hass, "Alice", "resident")
    await add_automation(
        hass, OPEN_GATE, {"vehicle_events": [EVENT], "notify_devices": [phones[0].device_id]}
    )

    await vehicle_arrives(hass)
    await hass.async_block_till_done()

    assert gate_calls == []
    assert push_gateway.received == []
    assert "No gate is configured for camera.driveway" in caplog.text


# --- End to end: ask what to do with an unknown vehicle ------------------------------------


@dataclass(frozen=True)
class Question:
    """The notification an unknown vehicle brought, as one phone received it."""

    push: dict[str, Any]

    @property
    def action_ids(self) -> list[str]:
        """The ids of the buttons, in order: open, allow, ignore."""
        return [action["action"] for action in self.push["data"]["actions"]]


async def ask_about_unknown_vehicle(
    hass: HomeAssistant, phones: list[Phone], push_gateway: PushGateway, **inputs: Any
) -> list[Question]:
    """Set up the blueprint, let an unknown vehicle arrive, and wait until it asks."""
    await add_automation(
        hass,
        UNKNOWN_VEHICLE,
        {
            "vehicle_events": [EVENT],
            "notify_devices": [phone.device_id for phone in phones],
            **inputs,
        },
    )
    await vehicle_arrives(hass)
    await until(lambda: hass.bus.async_listeners().get(ANSWER_EVENT, 0) == 3)
    return [Question(push) for phone in phones for push in push_gateway.to(phone)]


async def answer(
    hass: HomeAssistant, client: ClientSessionGenerator, phone: Phone, action: str
) -> None:
    """Tap a notification's button: the app reports it through its webhook."""
    http = await client()
    response = await http.post(
        f"/api/webhook/{phone.webhook_id}",
        json={
            "type": "fire_event",
            "data": {"event_type": ANSWER_EVENT, "event_data": {"action": action}},
        },
    )
    assert response.status == 200
    await hass.async_block_till_done()


def cleared(push_gateway: PushGateway, phone: Phone, tag: str) -> bool:
    """Whether the notification tagged `tag` was removed from `phone`."""
    return any(
        push["message"] == "clear_notification" and push["data"] == {"tag": tag}
        for push in push_gateway.to(phone)
    )


@pytest.mark.usefixtures("anpr_world")
async def test_unknown_vehicle_asks_every_phone(
    hass: HomeAssistant, phones: list[Phone], push_gateway: PushGateway
) -> None:
    questions = await ask_about_unknown_vehicle(hass, phones, push_gateway)

    assert len(questions) == 2
    first, second = questions
    assert first.push["title"] == "Unknown vehicle at Driveway"
    assert first.push["message"] == f"Plate {PLATE} is not in the registry. Let it in?"
    assert first.push["data"]["image"] == f"/api/image_proxy/{IMAGE}"
    assert [action["title"] for action in first.push["data"]["actions"]] == [
        "Open gate",
        "Allow for 24 hours",
        "Ignore",
    ]
    open_id, allow_id, ignore_id = first.action_ids
    run_id = open_id.removeprefix("ANPR_OPEN_")
    assert run_id
    assert allow_id == f"ANPR_ALLOW_{run_id}"
    assert ignore_id == f"ANPR_IGNORE_{run_id}"
    assert first.push["data"]["tag"] == f"anpr_unknown_{run_id}"
    different = {"registration_info", "push_token"}
    assert {key: value for key, value in second.push.items() if key not in different} == {
        key: value for key, value in first.push.items() if key not in different
    }


@pytest.mark.usefixtures("anpr_world")
async def test_near_read_names_the_probable_owner(
    hass: HomeAssistant, phones: list[Phone], push_gateway: PushGateway
) -> None:
    await add_plate(hass, "Alice", "resident", plate="AYO9035")  # one real misread away

    [question, _] = await ask_about_unknown_vehicle(hass, phones, push_gateway)

    assert question.push["message"] == (
        f"Plate {PLATE}: probably Alice's, but the read is too uncertain. Let it in?"
    )


@pytest.mark.usefixtures("anpr_world")
async def test_allow_adds_a_visitor_pass_and_opens_the_gate(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    opened = async_capture_events(hass, "anpr_gate_opened")
    [question, _] = await ask_about_unknown_vehicle(hass, phones, push_gateway)
    assert await list_plates(hass) == []

    await answer(hass, hass_client_no_auth, phones[1], question.action_ids[1])

    [visitor] = await list_plates(hass)
    assert visitor["plate"] == PLATE
    assert visitor["name"] == "Guest"
    assert visitor["category"] == "visitor"
    assert visitor["active"] is True
    valid_until = dt_util.parse_datetime(visitor["valid_until"])
    assert valid_until is not None
    assert valid_until - dt_util.utcnow() > timedelta(hours=23)
    assert valid_until - dt_util.utcnow() <= timedelta(hours=24)
    assert [call.data[ATTR_ENTITY_ID] for call in gate_calls] == [GATE]
    assert opened[0].data["forced"] is True
    tag = question.push["data"]["tag"]
    assert all(cleared(push_gateway, phone, tag) for phone in phones)
    assert running(hass) == 0


@pytest.mark.usefixtures("anpr_world")
async def test_pass_length_and_name_are_inputs(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    [question, _] = await ask_about_unknown_vehicle(
        hass,
        phones,
        push_gateway,
        pass_duration={"days": 2, "hours": 0, "minutes": 0, "seconds": 0},
        pass_name="Guest of {{ camera_name }}",
    )
    assert question.push["data"]["actions"][1]["title"] == "Allow for 2 days"

    await answer(hass, hass_client_no_auth, phones[0], question.action_ids[1])

    [visitor] = await list_plates(hass)
    assert visitor["name"] == "Guest of Driveway"
    valid_until = dt_util.parse_datetime(visitor["valid_until"])
    assert valid_until is not None
    assert valid_until - dt_util.utcnow() > timedelta(hours=47)
    assert len(gate_calls) == 1


@pytest.mark.parametrize("cameras_options", [{CAMERA: camera_options()}])  # no gate
@pytest.mark.usefixtures("anpr_world")
async def test_refused_opening_keeps_the_pass_and_clears_the_notification(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    [question, _] = await ask_about_unknown_vehicle(hass, phones, push_gateway)

    await answer(hass, hass_client_no_auth, phones[0], question.action_ids[1])

    assert [plate["plate"] for plate in await list_plates(hass)] == [PLATE]
    assert "No gate is configured for camera.driveway" in caplog.text
    assert all(cleared(push_gateway, phone, question.push["data"]["tag"]) for phone in phones)
    assert running(hass) == 0


@pytest.mark.usefixtures("anpr_world")
async def test_open_answer_opens_once_without_a_pass(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    opened = async_capture_events(hass, "anpr_gate_opened")
    [question, _] = await ask_about_unknown_vehicle(hass, phones, push_gateway)

    await answer(hass, hass_client_no_auth, phones[0], question.action_ids[0])

    assert len(gate_calls) == 1
    assert opened[0].data["forced"] is True
    assert await list_plates(hass) == []


@pytest.mark.usefixtures("anpr_world")
async def test_ignore_does_nothing(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    [question, _] = await ask_about_unknown_vehicle(hass, phones, push_gateway)

    await answer(hass, hass_client_no_auth, phones[0], question.action_ids[2])

    assert gate_calls == []
    assert await list_plates(hass) == []
    assert all(cleared(push_gateway, phone, question.push["data"]["tag"]) for phone in phones)
    assert running(hass) == 0


@pytest.mark.usefixtures("anpr_world")
async def test_no_answer_times_out_quietly(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    [question, _] = await ask_about_unknown_vehicle(hass, phones, push_gateway)

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=11))
    await hass.async_block_till_done()

    assert running(hass) == 0
    assert hass.bus.async_listeners().get(ANSWER_EVENT, 0) == 0
    assert gate_calls == []
    assert await list_plates(hass) == []
    assert all(cleared(push_gateway, phone, question.push["data"]["tag"]) for phone in phones)

    # A late tap on the stale notification does nothing either.
    await answer(hass, hass_client_no_auth, phones[0], question.action_ids[0])
    assert gate_calls == []


@pytest.mark.usefixtures("anpr_world")
async def test_timeout_can_leave_the_notification(
    hass: HomeAssistant, phones: list[Phone], push_gateway: PushGateway
) -> None:
    await ask_about_unknown_vehicle(
        hass, phones, push_gateway, answer_timeout={"minutes": 1}, clear_notification=False
    )
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=2))
    await hass.async_block_till_done()

    assert running(hass) == 0
    assert len(push_gateway.received) == 2  # the two questions, nothing removed


@pytest.mark.usefixtures("anpr_world")
async def test_answer_to_another_notification_is_not_an_answer(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    [question, _] = await ask_about_unknown_vehicle(hass, phones, push_gateway)

    await answer_without_waiting(hass_client_no_auth, phones[0], "ANPR_OPEN_someoneelse")
    await asyncio.sleep(0)
    assert running(hass) == 1
    assert gate_calls == []

    await answer(hass, hass_client_no_auth, phones[0], question.action_ids[2])
    assert gate_calls == []


async def answer_without_waiting(client: ClientSessionGenerator, phone: Phone, action: str) -> None:
    """Tap a button while the automation keeps waiting (so nothing can be waited for)."""
    http = await client()
    response = await http.post(
        f"/api/webhook/{phone.webhook_id}",
        json={
            "type": "fire_event",
            "data": {"event_type": ANSWER_EVENT, "event_data": {"action": action}},
        },
    )
    assert response.status == 200


@pytest.mark.parametrize("category", ["resident", "blocked"])
@pytest.mark.usefixtures("anpr_world")
async def test_known_vehicle_is_not_asked_about(
    hass: HomeAssistant, phones: list[Phone], push_gateway: PushGateway, category: str
) -> None:
    await add_plate(hass, "Someone", category)
    await add_automation(
        hass,
        UNKNOWN_VEHICLE,
        {"vehicle_events": [EVENT], "notify_devices": [phone.device_id for phone in phones]},
    )

    await vehicle_arrives(hass)
    await hass.async_block_till_done()

    assert push_gateway.received == []


# --- End to end: tell the residents a visitor arrived --------------------------------------


@pytest.mark.usefixtures("anpr_world")
async def test_visitor_arrival_is_told(
    hass: HomeAssistant, phones: list[Phone], push_gateway: PushGateway
) -> None:
    residents = async_mock_service(hass, "notify", "residents")
    await add_visitor_pass(hass, "Grandma")
    await add_automation(
        hass,
        VISITOR_ARRIVED,
        {
            "vehicle_events": [EVENT],
            "notify_devices": [phones[0].device_id],
            "notify_action": "residents",
        },
    )

    await vehicle_arrives(hass)
    await hass.async_block_till_done()

    event_time = dt_util.parse_datetime(state(hass, EVENT).state)
    assert event_time is not None
    at = dt_util.as_local(event_time).strftime("%H:%M")
    message = f"Grandma ({PLATE}) arrived at Driveway at {at}."
    [push] = push_gateway.to(phones[0])
    assert push["title"] == "Visitor at Driveway"
    assert push["message"] == message
    assert push["data"] == {"image": f"/api/image_proxy/{IMAGE}"}
    assert push_gateway.to(phones[1]) == []
    assert [call.data for call in residents] == [
        {"title": "Visitor at Driveway", "message": message}
    ]


@pytest.mark.parametrize("include_refused", [False, True])
@pytest.mark.usefixtures("anpr_world")
async def test_visitor_with_an_expired_pass(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    freezer: FrozenDateTimeFactory,
    include_refused: bool,
) -> None:
    await add_expired_visitor_pass(hass, freezer, "Grandma")
    await add_automation(
        hass,
        VISITOR_ARRIVED,
        {
            "vehicle_events": [EVENT],
            "notify_devices": [phones[0].device_id],
            "include_refused": include_refused,
        },
    )

    await vehicle_arrives(hass)
    await hass.async_block_till_done()

    assert state(hass, EVENT).attributes["event_type"] == "visitor"
    messages = [push["message"] for push in push_gateway.received]
    if include_refused:
        [message] = messages
        assert message.startswith(f"Grandma ({PLATE}) arrived at Driveway at ")
        assert message.endswith(", but their pass is no longer valid.")
    else:
        assert messages == []


@pytest.mark.parametrize("category", ["resident", "blocked", None])
@pytest.mark.usefixtures("anpr_world")
async def test_others_are_not_told_about(
    hass: HomeAssistant, phones: list[Phone], push_gateway: PushGateway, category: str | None
) -> None:
    residents = async_mock_service(hass, "notify", "residents")
    if category is not None:
        await add_plate(hass, "Someone", category)
    await add_automation(
        hass,
        VISITOR_ARRIVED,
        {
            "vehicle_events": [EVENT],
            "notify_devices": [phones[0].device_id],
            "notify_action": "notify.residents",
        },
    )

    await vehicle_arrives(hass)
    await hass.async_block_till_done()

    assert push_gateway.received == []
    assert residents == []


# --- End to end: remind the residents before a visitor pass starts -------------------------


async def reminders(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: int) -> None:
    """Let `minutes` pass a minute at a time, so the calendar trigger polls and fires."""
    for _ in range(minutes):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


@pytest.mark.usefixtures("anpr_world")
async def test_residents_are_reminded_before_a_pass_starts(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    freezer: FrozenDateTimeFactory,
) -> None:
    residents = async_mock_service(hass, "notify", "residents")
    await add_automation(
        hass,
        PASS_REMINDER,
        {
            "calendar": CALENDAR,
            "notify_devices": [phones[1].device_id],
            "notify_action": "residents",
        },
    )
    start = dt_util.now().replace(second=0, microsecond=0) + timedelta(minutes=40)
    await hass.services.async_call(
        "calendar",
        "create_event",
        {
            ATTR_ENTITY_ID: CALENDAR,
            "summary": "Grandma (XY-98 ZZZ)",
            "start_date_time": start,
            "end_date_time": start + timedelta(hours=3),
        },
        blocking=True,
    )
    message = f"Grandma (XY98ZZZ) is expected: the visitor pass starts at {start:%H:%M}."

    await reminders(hass, freezer, 20)  # 20 minutes before the start: not yet
    assert push_gateway.received == []
    await reminders(hass, freezer, 10)  # 15 minutes before (the default), give or take
    [push] = push_gateway.to(phones[1])
    assert push["title"] == "Visitor expected"
    assert push["message"] == message
    assert push_gateway.to(phones[0]) == []
    assert [call.data for call in residents] == [{"title": "Visitor expected", "message": message}]

    await reminders(hass, freezer, 30)  # the pass starting tells nobody again
    assert len(push_gateway.received) == 1


@pytest.mark.usefixtures("anpr_world")
async def test_whole_day_passes_are_reminded_with_their_date(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    residents = async_mock_service(hass, "notify", "residents")
    await add_automation(
        hass,
        PASS_REMINDER,
        {
            "calendar": CALENDAR,
            "offset": {"hours": -1, "minutes": 0, "seconds": 0},
            "notify_action": "notify.residents",
        },
    )
    day = dt_util.now().date() + timedelta(days=2)
    await hass.services.async_call(
        "calendar",
        "create_event",
        {
            ATTR_ENTITY_ID: CALENDAR,
            "summary": "Plumber XY98ZZZ",
            "start_date": day,
            "end_date": day + timedelta(days=1),
        },
        blocking=True,
    )
    # Late the evening before (the calendar trigger polls a quarter of an hour ahead).
    freezer.move_to(dt_util.start_of_local_day(day) - timedelta(hours=1, minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await reminders(hass, freezer, 3)
    assert residents == []
    await reminders(hass, freezer, 5)
    assert [call.data["message"] for call in residents] == [
        f"Plumber (XY98ZZZ) is expected: the visitor pass starts on {day.isoformat()}."
    ]


@pytest.mark.parametrize("name", [OPEN_GATE, UNKNOWN_VEHICLE, VISITOR_ARRIVED])
@pytest.mark.usefixtures("anpr_world")
async def test_a_manual_run_renders_and_sends_nothing(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    """Run from the automation editor there is no trigger: every variable still renders."""
    await add_automation(
        hass, name, {"vehicle_events": [EVENT], "notify_devices": [phones[0].device_id]}
    )
    await hass.services.async_call(
        "automation", "trigger", {ATTR_ENTITY_ID: AUTOMATION, "skip_condition": False},
        blocking=True,
    )  # fmt: skip
    await hass.async_block_till_done()
    assert push_gateway.to(phones[0]) == []
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not problems, [r.getMessage() for r in problems]
