"""A real Home Assistant for the browser test: the real inference service, `script/hass -c`.

What a user has after installing: Home Assistant with its frontend, onboarded (an owner
account, finished through the same REST calls the onboarding pages make), a `local_file`
camera serving a real car photo, the anpr entry pointed at the real inference service on
127.0.0.1 (embedded detector, the OCR model of ../shared/models), and a dashboard that shows
the card. Home Assistant installs its frontend package the first time (from the package index,
held to our pins by script/hass), so the first run takes a while.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import re
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

REPO = Path(__file__).resolve().parents[2]
# The smoke run's helpers start the real service the same way (script/measure_decision_time.py
# uses them too): one definition of its command line, its wait and a stored config entry.
sys.path.insert(0, str(REPO / "script"))
from smoke_latest import (  # noqa: E402
    API_KEY,
    OCR,
    OCR_CONFIG,
    SHARED,
    entry,
    free_port,
    start_service,
)

__all__ = ["OCR", "OCR_CONFIG", "free_port", "start_service"]
"""What the browser test takes from the smoke run's helpers through this module."""

DATASET = SHARED / "datasets" / "openalpr-benchmarks" / "br"
CAMERA = "camera.driveway"
USERNAME = "owner"
PASSWORD = "browser-test-password"
"""The owner's password: a throwaway account of a throwaway instance."""
HASS_TIMEOUT = 600.0
"""The first start installs the frontend package; later starts take seconds."""
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? (\w+) ", re.MULTILINE)
EXPECTED = (
    "We found a custom integration anpr which has not been tested",
    # The address test_card spoils on purpose, as if its signature had expired (Home
    # Assistant logs every refused one): the card renews it.
    "?authSig=expired'",
)

CONFIGURATION = """\
homeassistant:
  name: anpr browser test
  latitude: 0
  longitude: 0
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: BR
http:
  server_host: 127.0.0.1
  server_port: {port}
frontend:
media_source:
logger:
  default: warning
  logs:
    custom_components.anpr: debug
"""

DASHBOARD = {"views": [{"title": "Gate", "path": "gate", "cards": [{"type": "custom:anpr-card"}]}]}


def write_config(config: Path, service_url: str, photo: Path, port: int) -> None:
    """Write the configuration: http on `port`, the camera, the anpr entry, the dashboard."""
    storage = config / ".storage"
    storage.mkdir(parents=True)
    (config / "custom_components").mkdir()
    (config / "custom_components" / "anpr").symlink_to(REPO / "custom_components" / "anpr")
    (config / "configuration.yaml").write_text(CONFIGURATION.format(port=port), "utf-8")
    camera = {
        CAMERA: {
            "triggers": [], "scan_interval": 0, "burst_frames": 1, "burst_interval": 0,
            "region": "br", "min_confidence": 0.3, "hold_time": 60, "cooldown": 0,
        }
    }  # fmt: skip
    entries = [
        entry("01BROWSERCAMERA00000000000", "local_file", "Driveway", {},
              {"name": "Driveway", "file_path": str(photo)}, None),
        entry("01BROWSERANPR0000000000000", "anpr", "ANPR",
              {"url": service_url, "api_key": API_KEY},
              {"cameras": camera, "request_timeout": 120}, "browser"),
    ]  # fmt: skip
    _store(storage, "core.config_entries", {"entries": entries})
    _store(storage, "lovelace", {"config": DASHBOARD})


def _store(storage: Path, key: str, data: dict[str, Any]) -> None:
    document = {"version": 1, "minor_version": 1, "key": key, "data": data}
    (storage / key).write_text(json.dumps(document), "utf-8")


def start_hass(config: Path) -> subprocess.Popen[bytes]:
    """Start Home Assistant as a user does (script/hass), logging to `config/hass.log`."""
    log = (config / "hass.log").open("wb")
    return subprocess.Popen(  # noqa: S603
        [str(REPO / "script" / "hass"), "-c", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )


@dataclass
class Hass:
    """A running Home Assistant and the owner's tokens."""

    url: str
    process: subprocess.Popen[bytes]
    config: Path
    tokens: dict[str, Any] | None = None

    def request(
        self, method: str, path: str, body: Any = None, *, form: bool = False, auth: bool = True
    ) -> Any:
        """Call Home Assistant's REST API; return the decoded JSON answer."""
        headers = {}
        data = None
        if body is not None and form:
            data = "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in body.items())
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if auth and self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens['access_token']}"
        request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 server
            self.url + path, data=data.encode() if data else None, headers=headers, method=method
        )
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            text = response.read().decode()
        return json.loads(text) if text else None

    def wait_until_up(self) -> None:
        """Wait until the onboarding API answers (the frontend is installed and loaded)."""
        deadline = time.monotonic() + HASS_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Home Assistant exited:\n{self.log()[-5000:]}")
            try:
                self.request("GET", "/api/onboarding", auth=False)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
                continue
            return
        raise RuntimeError(f"Home Assistant did not start:\n{self.log()[-5000:]}")

    def onboard(self) -> None:
        """Create the owner account and finish onboarding, as the onboarding pages do."""
        client_id = f"{self.url}/"
        user = {
            "client_id": client_id, "name": "Owner", "username": USERNAME,
            "password": PASSWORD, "language": "en",
        }  # fmt: skip
        code = self.request("POST", "/api/onboarding/users", user, auth=False)["auth_code"]
        token = {"grant_type": "authorization_code", "code": code, "client_id": client_id}
        self.tokens = self.request("POST", "/auth/token", token, form=True, auth=False)
        self.request("POST", "/api/onboarding/core_config", {})
        self.request("POST", "/api/onboarding/analytics", {})
        self.request(
            "POST",
            "/api/onboarding/integration",
            {"client_id": client_id, "redirect_uri": f"{self.url}/?auth_callback=1"},
        )

    def call(
        self, domain: str, service: str, data: dict[str, Any], *, response: bool = False
    ) -> Any:
        """Call an action; with `response`, return its response."""
        path = f"/api/services/{domain}/{service}" + ("?return_response" if response else "")
        return self.request("POST", path, data)

    def log(self) -> str:
        """Return Home Assistant's log so far."""
        return (self.config / "hass.log").read_text("utf-8", errors="replace")

    def problems(self) -> list[str]:
        """Return the log records at WARNING or above that name anpr.

        Except the notice every custom integration gets.
        """
        records = RECORD_START.split(self.log())
        # split() with one group: [before, level, text, level, text, ...]
        return [
            f"{level} {text.strip()}"
            for level, text in zip(records[1::2], records[2::2], strict=True)
            if level in {"WARNING", "ERROR", "CRITICAL"}
            and "anpr" in text
            and not any(expected in text for expected in EXPECTED)
        ]

    def stop(self) -> None:
        """Stop Home Assistant (terminate: it shuts down cleanly on SIGTERM)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
