"""Config flow: user setup, add-on discovery, re-authentication and reconfiguration."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.anpr.config_flow import normalize_url
from custom_components.anpr.const import CONF_ADDON_SLUG, DOMAIN

from .fakes import API_KEY, INSTANCE_ID, Answer, FakeAnprService, health_json

if TYPE_CHECKING:
    from collections.abc import Generator

    from homeassistant.core import HomeAssistant

OTHER_INSTANCE = "f" * 32


@pytest.fixture(autouse=True)
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep created entries from setting up: these tests are about the flow."""
    with patch("custom_components.anpr.async_setup_entry", return_value=True) as mock:
        yield mock


def discovery(service: FakeAnprService, api_key: str | None = API_KEY) -> HassioServiceInfo:
    host, port = service.url.removeprefix("http://").split(":")
    return HassioServiceInfo(
        config={"host": host, "port": int(port), "api_key": api_key},
        name="ANPR inference",
        slug="abcd1234_anpr",
        uuid="1234",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("192.168.1.5", "http://192.168.1.5:8756"),
        # One rule: no port means the service's port, with or without a scheme.
        ("http://192.168.1.20", "http://192.168.1.20:8756"),
        ("https://anpr.example.org/", "https://anpr.example.org:8756"),
        (" anpr.local:9000 ", "http://anpr.local:9000"),
        # A written port stays, even the scheme's default, so normalising again keeps it.
        ("https://anpr.example.org:443", "https://anpr.example.org:443"),
        ("http://nas:80", "http://nas:80"),
        ("http://10.0.0.2:8756/prefix/", "http://10.0.0.2:8756/prefix"),
        ("[::1]", "http://[::1]:8756"),
        ("ftp://host", None),
        ("http://", None),
        ("http://[::1", None),
    ],
)
def test_normalize_url(raw: str, expected: str | None) -> None:
    assert normalize_url(raw) == expected


def test_normalized_urls_stay_as_they_are() -> None:
    for raw in ("192.168.1.5", "https://anpr.example.org:443", "http://nas:80", "http://h/x/"):
        url = normalize_url(raw)
        assert url is not None
        assert normalize_url(url) == url


@pytest.mark.parametrize("typed", ["127.0.0.1", "http://127.0.0.1", "http://127.0.0.1/"])
async def test_user_flow_address_without_port(
    hass: HomeAssistant, anpr_service: FakeAnprService, typed: str
) -> None:
    """Bare or with a scheme, an address without a port reaches the service's port."""
    port = URL(anpr_service.url).port
    with patch("custom_components.anpr.config_flow.DEFAULT_PORT", port):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_URL: typed, CONF_API_KEY: API_KEY}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_URL] == f"http://127.0.0.1:{port}"


async def test_user_flow(hass: HomeAssistant, anpr_service: FakeAnprService) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ANPR (127.0.0.1)"
    assert result["data"] == {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    assert result["result"].unique_id == INSTANCE_ID


async def test_user_flow_without_key(hass: HomeAssistant, anpr_service: FakeAnprService) -> None:
    anpr_service.api_key = None
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url.removeprefix("http://")}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_URL: anpr_service.url, CONF_API_KEY: None}
    # The key is only checked when the service asks for one.
    assert [r.path for r in anpr_service.requests] == ["/v1/health"]


@pytest.mark.parametrize(
    ("break_it", "error"),
    [
        (lambda s: setattr(s, "down", True), "cannot_connect"),
        (lambda s: setattr(s, "api_key", "another-key"), "invalid_auth"),
        (lambda s: s.health_answers.append(Answer(body={"service": "frigate"})), "not_anpr"),
        (lambda s: s.health_answers.append(Answer(404, b"<html>nope</html>")), "not_anpr"),
    ],
)
async def test_user_flow_errors_then_success(
    hass: HomeAssistant, anpr_service: FakeAnprService, break_it: object, error: str
) -> None:
    assert callable(break_it)
    break_it(anpr_service)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

    anpr_service.down = False
    anpr_service.api_key = API_KEY
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_unexpected_error(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch(
        "custom_components.anpr.config_flow.AnprClient.health", side_effect=RuntimeError("bug")
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
        )
    assert result["errors"] == {"base": "unknown"}


async def test_user_flow_invalid_url(hass: HomeAssistant, anpr_service: FakeAnprService) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "ftp://example.org", CONF_API_KEY: API_KEY}
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}
    assert anpr_service.requests == []


async def test_user_flow_already_configured_updates_url(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=INSTANCE_ID,
        data={CONF_URL: "http://old-host:8756", CONF_API_KEY: API_KEY},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_URL] == anpr_service.url


async def test_hassio_discovery(hass: HomeAssistant, anpr_service: FakeAnprService) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(anpr_service)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "ANPR inference"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ANPR inference"
    assert result["data"] == {
        CONF_URL: anpr_service.url,
        CONF_API_KEY: API_KEY,
        CONF_ADDON_SLUG: "abcd1234_anpr",
    }
    assert result["result"].unique_id == INSTANCE_ID


async def test_hassio_discovery_already_configured(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=INSTANCE_ID, data={CONF_URL: "http://old:1", CONF_API_KEY: None}
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(anpr_service)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_URL] == anpr_service.url
    assert entry.data[CONF_API_KEY] == API_KEY


@pytest.mark.parametrize(
    ("api_key", "down", "reason"),
    [(API_KEY, True, "cannot_connect"), ("wrong-key-1", False, "invalid_auth")],
)
async def test_hassio_discovery_fails(
    hass: HomeAssistant,
    anpr_service: FakeAnprService,
    api_key: str,
    down: bool,
    reason: str,
) -> None:
    anpr_service.down = down
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery(anpr_service, api_key)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_hassio_discovery_incomplete(hass: HomeAssistant) -> None:
    info = HassioServiceInfo(config={"host": "x"}, name="ANPR", slug="anpr", uuid="1")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_anpr"


@pytest.fixture
def entry(hass: HomeAssistant, anpr_service: FakeAnprService) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="ANPR (127.0.0.1)",
        unique_id=INSTANCE_ID,
        data={CONF_URL: anpr_service.url, CONF_API_KEY: "old-key-123"},
    )
    entry.add_to_hass(hass)
    return entry


async def test_reauth(
    hass: HomeAssistant, anpr_service: FakeAnprService, entry: MockConfigEntry
) -> None:
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == API_KEY
    await hass.async_block_till_done()


async def test_reauth_wrong_service(
    hass: HomeAssistant, anpr_service: FakeAnprService, entry: MockConfigEntry
) -> None:
    anpr_service.health = {**health_json(), "instance_id": OTHER_INSTANCE}
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_service"
    assert entry.data[CONF_API_KEY] == "old-key-123"


async def test_reconfigure(
    hass: HomeAssistant, anpr_service: FakeAnprService, entry: MockConfigEntry
) -> None:
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "gopher://nowhere", CONF_API_KEY: API_KEY}
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}

    anpr_service.down = True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    anpr_service.down = False
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url + "/", CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    await hass.async_block_till_done()


async def test_reconfigure_other_service(
    hass: HomeAssistant, anpr_service: FakeAnprService, entry: MockConfigEntry
) -> None:
    anpr_service.health = {**health_json(), "instance_id": OTHER_INSTANCE}
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_service"


def sent_to_browser(result: FlowResult) -> str:
    """Return the form as Home Assistant's HTTP and websocket APIs send it to the frontend."""
    try:  # Home Assistant 2025.4: voluptuous-serialize
        from voluptuous_serialize import convert
    except ImportError:  # newer releases (2026.10 at least) use probatio
        from probatio import to_field_list as convert
    schema = convert(result["data_schema"], custom_serializer=cv.custom_serializer)
    return json.dumps({**result, "data_schema": schema}, default=str)


def keyed_entry(hass: HomeAssistant, service: FakeAnprService) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="ANPR (127.0.0.1)",
        unique_id=INSTANCE_ID,
        data={CONF_URL: service.url, CONF_API_KEY: API_KEY},
    )
    entry.add_to_hass(hass)
    return entry


async def test_reconfigure_never_sends_the_stored_key(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    entry = keyed_entry(hass, anpr_service)
    result = await entry.start_reconfigure_flow(hass)
    assert API_KEY not in sent_to_browser(result)
    assert anpr_service.url in sent_to_browser(result)

    # Nor after an error, nor a key the user just typed.
    anpr_service.down = True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: "typed-key-123"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert "typed-key-123" not in sent_to_browser(result)
    assert API_KEY not in sent_to_browser(result)


async def test_user_form_does_not_send_the_typed_key_back(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    anpr_service.down = True
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert anpr_service.url in sent_to_browser(result)
    assert API_KEY not in sent_to_browser(result)


async def test_reconfigure_empty_key_keeps_the_stored_one(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    entry = keyed_entry(hass, anpr_service)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY}
    # The stored key was checked against the service.
    assert anpr_service.requests[-1].headers["Authorization"] == f"Bearer {API_KEY}"
    await hass.async_block_till_done()


async def test_reconfigure_new_key_replaces_the_stored_one(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    entry = keyed_entry(hass, anpr_service)
    anpr_service.api_key = "rotated-key-456"
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url, CONF_API_KEY: "rotated-key-456"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_API_KEY] == "rotated-key-456"
    await hass.async_block_till_done()


async def test_reconfigure_removes_a_key_the_service_no_longer_asks_for(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    entry = keyed_entry(hass, anpr_service)
    anpr_service.api_key = None
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: anpr_service.url}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_URL: anpr_service.url, CONF_API_KEY: None}
    await hass.async_block_till_done()


async def test_reconfigure_suggests_the_stored_url_with_its_port(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    """An entry saved before ports were always written keeps its port when resubmitted."""
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=INSTANCE_ID, data={CONF_URL: "https://anpr.example.org"}
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert "https://anpr.example.org:443" in sent_to_browser(result)
