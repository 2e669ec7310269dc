"""A real MQTT broker for the tests: Debian's `mosquitto` on a free 127.0.0.1 port.

Home Assistant's MQTT integration is set up as a real config entry pointing at it (not the
harness's `mqtt_mock`), so messages travel the way Frigate's do: published to a broker,
delivered to the integration's subscription. `.ci/run` installs `mosquitto`; where the binary
is missing the tests that need it are skipped, saying so.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
import json
import shutil
import socket
from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.core import callback
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from pathlib import Path

    from homeassistant.core import HomeAssistant

MOSQUITTO_PATHS = ("mosquitto", "/usr/sbin/mosquitto")


def _mosquitto() -> str | None:
    for candidate in MOSQUITTO_PATHS:
        if found := shutil.which(candidate):
            return found
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(100):
        if process.returncode is not None:
            raise RuntimeError(f"mosquitto exited with {process.returncode}")
        with suppress(OSError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on port {port}")


@pytest.fixture
async def mqtt_broker(socket_enabled: None, tmp_path: Path) -> AsyncGenerator[int]:
    """Run mosquitto on a free 127.0.0.1 port; yield the port."""
    binary = _mosquitto()
    if binary is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto): no MQTT broker")
    port = _free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n",
        encoding="utf-8",
    )
    process = await asyncio.create_subprocess_exec(
        binary,
        "-c",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_for_port(port, process)
        yield port
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, mqtt_broker: int, mock_hass_config: None
) -> MockConfigEntry:
    """Set up Home Assistant's MQTT integration against the broker; wait until connected.

    `mock_hass_config`: the integration reads `configuration.yaml`, which is empty here.
    """
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        data={mqtt.CONF_BROKER: "127.0.0.1", "port": mqtt_broker},
        version=mqtt.CONFIG_ENTRY_VERSION,
        minor_version=mqtt.CONFIG_ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    connected = asyncio.Event()
    for _ in range(200):
        if mqtt.is_connected(hass):
            connected.set()
            break
        await asyncio.sleep(0.05)
    assert connected.is_set(), "Home Assistant's MQTT client did not connect to mosquitto"
    return entry


async def publish(hass: HomeAssistant, topic: str, payload: Any) -> None:
    """Publish `payload` (JSON unless it is text or bytes) through the broker."""
    if not isinstance(payload, str | bytes):
        payload = json.dumps(payload)
    await mqtt.async_publish(hass, topic, payload)


async def wait_until_subscribed(hass: HomeAssistant, topic: str) -> None:
    """Return once messages on `topic` reach Home Assistant's subscribers.

    Home Assistant sends subscriptions to the broker in a batch a moment later; a probe (a
    payload no plate source accepts) is published until a subscriber of our own, added after
    the source's, hears it: the broker then delivers `topic` to both.
    """
    heard = asyncio.Event()

    @callback
    def _heard(_message: mqtt.ReceiveMessage) -> None:
        heard.set()

    unsubscribe = await mqtt.async_subscribe(hass, topic, _heard)
    try:
        for _ in range(100):
            await mqtt.async_publish(hass, topic, "probe")
            with suppress(TimeoutError):
                await asyncio.wait_for(heard.wait(), 0.2)
                return
        raise AssertionError(f"no message on {topic} came back from the broker")
    finally:
        unsubscribe()
