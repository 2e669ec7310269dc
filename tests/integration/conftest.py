"""Fixtures for the integration's tests (Home Assistant's pytest plugin is on here).

The plugin blocks sockets; fixtures that run a real server on 127.0.0.1 ask for
`socket_enabled`. Cameras are real Home Assistant cameras (`local_file`) serving real photos
from `../shared/datasets`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest.mock import PropertyMock, patch

from homeassistant.const import CONF_API_KEY, CONF_URL
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension

from custom_components.anpr import scanner as scanner_module
from custom_components.anpr.const import (
    CONF_BURST_FRAMES,
    CONF_BURST_INTERVAL,
    CONF_CAMERAS,
    CONF_COOLDOWN,
    CONF_HOLD_TIME,
    CONF_MIN_CONFIDENCE,
    CONF_REGION,
    CONF_SCAN_INTERVAL,
    CONF_TRIGGERS,
    DOMAIN,
)

from .fakes import API_KEY, INSTANCE_ID, FakeAnprService
from .mqtt_broker import mqtt_broker, mqtt_entry  # noqa: F401 - fixtures of the MQTT tests

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator

    from homeassistant.core import HomeAssistant, ServiceCall
    from syrupy.assertion import SnapshotAssertion

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared").resolve()
DATASET = SHARED / "datasets" / "openalpr-benchmarks"
MODELS = SHARED / "models"

CAMERA = "camera.driveway"
GATE = "cover.gate"
"""The gate the tests' cameras open: a cover outside the box, recorded by `gate_calls`."""
MOTION = "binary_sensor.driveway_motion"


def shared_file(path: Path) -> Path:
    """Return a file of `../shared`, failing the test clearly when it is missing."""
    if not path.is_file():
        pytest.fail(f"missing test data {path}: ../shared must sit beside the repository")
    return path


def photo(region: str, name: str) -> Path:
    """Return a real labelled car photo of the benchmark data set."""
    return shared_file(DATASET / region / f"{name}.jpg")


def camera_options(**overrides: Any) -> dict[str, Any]:
    """Options of one watched camera, fast for tests (no pause inside a burst)."""
    options: dict[str, Any] = {
        CONF_TRIGGERS: [MOTION],
        CONF_SCAN_INTERVAL: 0,
        CONF_BURST_FRAMES: 3,
        CONF_BURST_INTERVAL: 0,
        CONF_REGION: "br",
        CONF_MIN_CONFIDENCE: 0.5,
        CONF_HOLD_TIME: 60,
        CONF_COOLDOWN: 300,
    }
    options.update(overrides)
    return options


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load `custom_components/anpr`."""


@pytest.fixture(autouse=True)
def temporary_config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give every test its own configuration folder: visit pictures and exports go there."""
    hass.config.config_dir = str(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def no_retry_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry at once: the backoff's length is policy, not something tests should wait for."""
    monkeypatch.setattr(scanner_module, "RETRY_DELAYS", (0.0, 0.0))
    monkeypatch.setattr(scanner_module, "MAX_RETRY_AFTER", 0.0)


@pytest.fixture
async def anpr_service(socket_enabled: None) -> AsyncGenerator[FakeAnprService]:
    """Run a fake inference service."""
    service = FakeAnprService()
    await service.start()
    yield service
    await service.close()


@pytest.fixture
def camera_photo() -> Path:
    """Return the photo the test camera serves."""
    return photo("br", "AYO9034")


@pytest.fixture
async def camera(hass: HomeAssistant, camera_photo: Path) -> str:
    """Set up a real Home Assistant camera (local_file) serving a real car photo."""
    entry = MockConfigEntry(
        domain="local_file",
        title="Driveway",
        options={"name": "Driveway", "file_path": str(camera_photo)},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(CAMERA) is not None
    hass.states.async_set(MOTION, "off")
    return CAMERA


@pytest.fixture
def cameras_options() -> dict[str, dict[str, Any]]:
    """Return the watched cameras of the test entry."""
    return {CAMERA: camera_options()}


@pytest.fixture
def config_entry(
    anpr_service: FakeAnprService, cameras_options: dict[str, dict[str, Any]]
) -> MockConfigEntry:
    """Return an anpr entry pointing at the fake service, watching the test camera."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="ANPR (127.0.0.1)",
        unique_id=INSTANCE_ID,
        data={CONF_URL: anpr_service.url, CONF_API_KEY: API_KEY},
        options={CONF_CAMERAS: cameras_options},
    )


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, camera: str, config_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the anpr entry; unload it again at the end so nothing lingers."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield config_entry
    if config_entry.state.recoverable:
        await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
def gate_calls(hass: HomeAssistant) -> list[ServiceCall]:
    """Return the calls of the gate: a cover whose opening is recorded, not run."""
    hass.states.async_set(GATE, "closed")
    calls: list[ServiceCall] = async_mock_service(hass, "cover", "open_cover")
    return calls


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default enabled (as core's fixture does)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's extension, as core's `tests/conftest.py` sets it.

    The harness declares the same fixture in its plugin, but syrupy's plugin registers after it
    and wins; a conftest fixture comes before both. The extension writes registry entries and
    states as dicts with random ids and timestamps as ANY, into `snapshots/`.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


from .real_service import inference_service  # noqa: E402, F401 - the session's real service
