"""Supervisor discovery against a fake Supervisor: a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
import socket
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
import pytest

from anpr_inference.discovery import announce_to_supervisor, supervisor_token_from_env

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp.test_utils import TestServer

TOKEN = "supervisor-test-token"


@dataclass
class FakeSupervisor:
    """What the fake Supervisor answers and what it received."""

    info_status: int = 200
    info_body: Any = field(
        default_factory=lambda: {"result": "ok", "data": {"hostname": "local-anpr-inference"}}
    )
    discovery_status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=list)
    url: str = ""

    def app(self) -> web.Application:
        """Build the two Supervisor endpoints the service calls."""

        async def info(request: web.Request) -> web.Response:
            self.tokens.append(request.headers.get("Authorization"))
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return web.json_response({"result": "error", "message": "Unauthorized"}, status=401)
            if self.info_status != 200:
                return web.json_response({"result": "error", "message": "boom"}, status=500)
            return web.json_response(self.info_body)

        async def discovery(request: web.Request) -> web.Response:
            self.tokens.append(request.headers.get("Authorization"))
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return web.json_response({"result": "error", "message": "Unauthorized"}, status=401)
            self.received.append(await request.json())
            if self.discovery_status != 200:
                return web.json_response(
                    {"result": "error", "message": "Apps must list services they provide"},
                    status=self.discovery_status,
                )
            return web.json_response({"result": "ok", "data": {"uuid": "0" * 32}})

        app = web.Application()
        app.router.add_get("/addons/self/info", info)
        app.router.add_post("/discovery", discovery)
        return app


@pytest.fixture
async def supervisor(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> FakeSupervisor:
    fake = FakeSupervisor()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


async def test_announces_hostname_port_and_key(supervisor: FakeSupervisor) -> None:
    async with aiohttp.ClientSession() as session:
        ok = await announce_to_supervisor(
            session, port=8756, api_key="secret-key-123", token=TOKEN, supervisor_url=supervisor.url
        )
    assert ok is True
    assert supervisor.received == [
        {
            "service": "anpr",
            "config": {"host": "local-anpr-inference", "port": 8756, "api_key": "secret-key-123"},
        }
    ]
    assert supervisor.tokens == [f"Bearer {TOKEN}"] * 2


async def test_omits_api_key_when_none(supervisor: FakeSupervisor) -> None:
    async with aiohttp.ClientSession() as session:
        ok = await announce_to_supervisor(
            session, port=9000, api_key=None, token=TOKEN, supervisor_url=supervisor.url + "/"
        )
    assert ok is True
    assert supervisor.received[0]["config"] == {"host": "local-anpr-inference", "port": 9000}


async def test_key_is_never_logged(
    supervisor: FakeSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with aiohttp.ClientSession() as session:
        await announce_to_supervisor(
            session, port=8756, api_key="secret-key-123", token=TOKEN, supervisor_url=supervisor.url
        )
    assert "secret-key-123" not in caplog.text
    assert TOKEN not in caplog.text


async def test_rejected_token_returns_false(
    supervisor: FakeSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    async with aiohttp.ClientSession() as session:
        ok = await announce_to_supervisor(
            session, port=8756, api_key=None, token="wrong", supervisor_url=supervisor.url
        )
    assert ok is False
    assert supervisor.received == []
    assert "HTTP 401" in caplog.text
    assert "Unauthorized" in caplog.text


async def test_refused_discovery_returns_false(
    supervisor: FakeSupervisor, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor.discovery_status = 403
    async with aiohttp.ClientSession() as session:
        ok = await announce_to_supervisor(
            session, port=8756, api_key=None, token=TOKEN, supervisor_url=supervisor.url
        )
    assert ok is False
    assert "HTTP 403" in caplog.text
    assert "Apps must list services" in caplog.text


async def test_unreachable_supervisor_returns_false(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        ok = await announce_to_supervisor(
            session, port=8756, api_key=None, token=TOKEN, supervisor_url=f"http://127.0.0.1:{port}"
        )
    assert ok is False
    assert "cannot reach the Supervisor" in caplog.text


@pytest.mark.parametrize(
    "info",
    [
        pytest.param({"status": 500}, id="error-status"),
        pytest.param({"body": {"result": "ok", "data": {}}}, id="no-hostname"),
        pytest.param({"body": ["not", "a", "mapping"]}, id="odd-body"),
    ],
)
async def test_hostname_lookup_failure_falls_back_to_own_hostname(
    supervisor: FakeSupervisor, info: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    supervisor.info_status = info.get("status", 200)
    if "body" in info:
        supervisor.info_body = info["body"]
    async with aiohttp.ClientSession() as session:
        ok = await announce_to_supervisor(
            session, port=8756, api_key=None, token=TOKEN, supervisor_url=supervisor.url
        )
    assert ok is True
    assert supervisor.received[0]["config"]["host"] == socket.gethostname()
    assert "Cannot read this add-on's hostname" in caplog.text


def test_supervisor_token_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISOR_TOKEN", "abc")
    assert supervisor_token_from_env() == "abc"
    monkeypatch.setenv("SUPERVISOR_TOKEN", "")
    assert supervisor_token_from_env() is None
    monkeypatch.delenv("SUPERVISOR_TOKEN")
    assert supervisor_token_from_env() is None
