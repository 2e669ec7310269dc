"""The API key stays secret: never logged, never in diagnostics, sent only to the service.

Everything runs for real (the fake service on 127.0.0.1, a real camera, Home Assistant's
config flows and diagnostics) with every logger at DEBUG, then every log record is searched.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import aiohttp
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.anpr.api import AnprClient, AnprResponseError
from custom_components.anpr.const import DOMAIN
from custom_components.anpr.scanner import ScanError

from .conftest import CAMERA, MOTION
from .fakes import API_KEY, Answer, FakeAnprService

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

NEW_KEY = "rotated-key-456"
JPEG = b"\xff\xd8\xff\xe0 not really a photo"


def leaks(caplog: pytest.LogCaptureFixture, secret: str) -> list[str]:
    """Return every log record (message, arguments, traceback) that contains `secret`."""
    formatter = logging.Formatter()
    found = []
    for record in caplog.records:
        text = record.getMessage()
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        if record.stack_info:
            text += record.stack_info
        if secret in text or secret in repr(record.args):
            found.append(f"{record.name}: {text}")
    return found


async def settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.usefixtures("camera")
async def test_the_key_is_never_logged_nor_in_diagnostics(
    hass: HomeAssistant,
    anpr_service: FakeAnprService,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    # Setup (health, then the key checked), and a scan (the key on every frame).
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await settle(hass)
    hass.states.async_set(MOTION, "on")
    await settle(hass)
    watcher = config_entry.runtime_data.watchers[CAMERA]
    assert watcher.last_scan is not None

    # The service goes away: failed frames, a failed health check.
    await anpr_service.stop()
    with pytest.raises(ScanError):
        await watcher.async_scan()
    await config_entry.runtime_data.coordinator.async_refresh()
    await anpr_service.start()

    # The key is rotated on the service: rejected (401), re-authentication with the new key.
    anpr_service.api_key = NEW_KEY
    with pytest.raises(ScanError):
        await watcher.async_scan()
    await config_entry.runtime_data.coordinator.async_refresh()
    await settle(hass)
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: "wrong-guess-789"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: NEW_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    await settle(hass)
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.data[CONF_API_KEY] == NEW_KEY
    await config_entry.runtime_data.watchers[CAMERA].async_scan()

    diagnostics = json.dumps(
        await get_diagnostics_for_config_entry(hass, hass_client, config_entry)
    )

    # DEBUG really was on, for the integration and for the HTTP traffic.
    assert any(
        r.levelno == logging.DEBUG and r.name == "custom_components.anpr" for r in caplog.records
    )
    assert any(r.name == "aiohttp.access" for r in caplog.records)
    for secret in (API_KEY, NEW_KEY, "wrong-guess-789"):
        assert leaks(caplog, secret) == []
        assert secret not in diagnostics
    await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.usefixtures("loaded_entry")
async def test_the_key_goes_in_the_authorization_header_only(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    hass.states.async_set(MOTION, "on")
    await settle(hass)
    assert {request.path for request in anpr_service.requests} == {
        "/v1/health",
        "/v1/openapi.json",
        "/v1/recognize",
    }
    for request in anpr_service.requests:
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        assert API_KEY not in request.path
        assert API_KEY not in json.dumps(request.query)
        assert API_KEY.encode() not in request.body
        others = {name: value for name, value in request.headers.items() if name != "Authorization"}
        assert API_KEY not in json.dumps(others)


@pytest.fixture
async def elsewhere(socket_enabled: None) -> AsyncGenerator[FakeAnprService]:
    """Run another server, where a redirect would lead."""
    service = FakeAnprService()
    service.api_key = None
    await service.start()
    yield service
    await service.close()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """Open a plain aiohttp session, as Home Assistant would share one."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_not_followed(
    session: aiohttp.ClientSession,
    anpr_service: FakeAnprService,
    elsewhere: FakeAnprService,
    status: int,
) -> None:
    """A redirect is something else answering: it gets neither the key nor the image."""
    client = AnprClient(session, anpr_service.url, API_KEY)
    redirect = Answer(status, b"", {"Location": f"{elsewhere.url}/v1/recognize"})
    anpr_service.health_answers.append(redirect)
    anpr_service.recognize_answers.append(redirect)
    with pytest.raises(AnprResponseError, match="redirect"):
        await client.health()
    with pytest.raises(AnprResponseError, match=f"redirect \\({status}\\)"):
        await client.recognize(JPEG, "image/jpeg")
    assert elsewhere.requests == []
