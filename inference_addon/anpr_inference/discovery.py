"""Announce the service to Home Assistant through the Supervisor's discovery API.

Inside a Home Assistant add-on the Supervisor sets `SUPERVISOR_TOKEN`. Posting
`{"service": "anpr", "config": {...}}` to `http://supervisor/discovery` makes Home Assistant
start the anpr integration's `async_step_hassio` with that config, so the user only has to
confirm. This is what the Wyoming add-ons do with bashio; doing it from Python, once the
server listens, means Home Assistant never gets an address that does not answer yet.

Discovery is a convenience: every failure is logged and reported as False, never raised,
so the service keeps running and the user can still add the integration by hand.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from typing import Any

import aiohttp

from .contract import DISCOVERY_SERVICE

_LOGGER = logging.getLogger(__name__)

SUPERVISOR_URL = "http://supervisor"
_TIMEOUT = aiohttp.ClientTimeout(total=10)


def supervisor_token_from_env() -> str | None:
    """Return the Supervisor API token the add-on runs with, or None outside an add-on."""
    return os.environ.get("SUPERVISOR_TOKEN") or None


async def announce_to_supervisor(
    session: aiohttp.ClientSession,
    *,
    port: int,
    api_key: str | None,
    token: str,
    supervisor_url: str = SUPERVISOR_URL,
) -> bool:
    """Send this service's address (and API key, if any) to Home Assistant.

    The host is the add-on's hostname on the Supervisor's internal network, as reported by
    `GET /addons/self/info`; if that lookup fails the container's own hostname is used, which
    the Supervisor sets to the same name. Returns True when the Supervisor accepted the
    message.
    """
    base = supervisor_url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    host = await _own_hostname(session, base, headers)
    config: dict[str, Any] = {"host": host, "port": port}
    if api_key is not None:
        config["api_key"] = api_key
    try:
        async with session.post(
            f"{base}/discovery",
            json={"service": DISCOVERY_SERVICE, "config": config},
            headers=headers,
            timeout=_TIMEOUT,
        ) as response:
            text = await response.text()
            if response.status != 200:
                _LOGGER.warning(
                    "Home Assistant discovery failed: the Supervisor answered HTTP %s: %s",
                    response.status,
                    _supervisor_message(text),
                )
                return False
    except (aiohttp.ClientError, TimeoutError) as err:
        _LOGGER.warning(
            "Home Assistant discovery failed: cannot reach the Supervisor at %s (%s)",
            base,
            _describe(err),
        )
        return False
    # The API key is part of the message; never log it.
    _LOGGER.info(
        "Sent discovery information to Home Assistant (host %s, port %s, API key %s)",
        host,
        port,
        "set" if api_key is not None else "not set",
    )
    return True


async def _own_hostname(session: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> str:
    problem: str
    try:
        async with session.get(
            f"{base}/addons/self/info", headers=headers, timeout=_TIMEOUT
        ) as response:
            response.raise_for_status()
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        problem = _describe(err)
    else:
        data = body.get("data") if isinstance(body, dict) else None
        hostname = data.get("hostname") if isinstance(data, dict) else None
        if isinstance(hostname, str) and hostname:
            return hostname
        problem = "its answer has no hostname"
    fallback = socket.gethostname()
    _LOGGER.warning(
        "Cannot read this add-on's hostname from the Supervisor (%s); using %s", problem, fallback
    )
    return fallback


def _supervisor_message(text: str) -> str:
    """Pull `message` out of a Supervisor error body (`{"result": "error", ...}`)."""
    try:
        body = json.loads(text)
    except ValueError:
        return text[:200] or "(empty body)"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return text[:200]


def _describe(err: BaseException) -> str:
    """Name an error even when its message is empty (timeouts usually are)."""
    return str(err) or type(err).__name__
