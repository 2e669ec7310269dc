"""Smoke run: a real `hass` of the newest Home Assistant release loads the integration and reads.

Run by script/test after script/setup-latest, with the development venv's Python (3.13). The
real inference service runs here (development venv, embedded detector, the OCR model from
../shared/models) on 127.0.0.1; Home Assistant runs in the Python 3.14 root (script/latest-root)
with a temporary configuration: a `local_file` camera serving a real car photo, an anpr entry
pointed at the service and an automation that scans the camera once Home Assistant has started,
then stops it. The run fails on:

- Home Assistant not stopping by itself in time, or exiting with an error status;
- any log record that names anpr at WARNING or above, or that is a deprecation naming anpr
  (Python warnings are on and Home Assistant logs them), except the notice every custom
  integration gets;
- the devices, entities or the read not being where the integration keeps them.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
PHOTO = SHARED / "datasets" / "openalpr-benchmarks" / "br" / "AYO9034.jpg"
PLATE = "AYO9034"
OCR = SHARED / "models" / "cct_xs_v1_global.onnx"
OCR_CONFIG = SHARED / "models" / "cct_xs_v1_global_plate_config.yaml"
HASS_PYTHON = "/opt/hass-latest/venv-hass/bin/python"  # LATEST_HASS_VENV in script/latest-root
API_KEY = "smoke-key"
ANPR_ENTRY = "01SMOKEANPR000000000000000"
CAMERA_ENTRY = "01SMOKECAMERA0000000000000"
CAMERA = "camera.driveway"
SERVICE_TIMEOUT = 180.0
HASS_TIMEOUT = 420.0
LISTENING = re.compile(r"anpr-inference listening on (http://127\.0\.0\.1:\d+)")
RECORD_START = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d)? (\w+) ", re.MULTILINE
)
EXPECTED = ("We found a custom integration anpr which has not been tested",)

CONFIGURATION = """\
homeassistant:
  name: anpr smoke
  latitude: 0
  longitude: 0
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: BR
logger:
  default: warning
  logs:
    custom_components.anpr: debug
    homeassistant.setup: info
    smoke_check: info
automation:
  - alias: anpr smoke
    triggers:
      - trigger: homeassistant
        event: start
    actions:
      - action: anpr.scan
        data:
          entity_id: {camera}
        response_variable: read
        continue_on_error: true
      - action: system_log.write
        data:
          level: info
          logger: smoke_check
          message: "smoke read: {{{{ read.plates | map(attribute='plate') | list }}}}"
        continue_on_error: true
      - action: homeassistant.stop
"""


def main() -> int:
    """Run the smoke test; return the exit status."""
    for path in (PHOTO, OCR, OCR_CONFIG):
        if not path.is_file():
            print(f"smoke: missing test data {path}", file=sys.stderr)
            return 1
    work = Path(tempfile.mkdtemp(prefix="hass-smoke-"))
    try:
        service, url = start_service(work / "service")
        try:
            config = write_config(work / "config", url)
            status = run_hass(config)
        finally:
            service.terminate()
            service.wait(timeout=30)
        return check(config, status)
    finally:
        if os.environ.get("ANPR_SMOKE_KEEP"):
            print(f"smoke: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def start_service(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the real inference service on 127.0.0.1; return it and its URL."""
    data_dir.mkdir(parents=True)
    log_path = data_dir / "service.log"
    command = [
        sys.executable, "-m", "anpr_inference", "serve", "--host", "127.0.0.1", "--port", "0",
        "--detector", "embedded", "--ocr", "file", "--ocr-path", str(OCR),
        "--ocr-config-path", str(OCR_CONFIG), "--data-dir", str(data_dir),
        "--model-dir", str(data_dir / "models"), "--api-key", API_KEY,
        "--no-download", "--no-announce",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SUPERVISOR_TOKEN", None)
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: S603
    deadline = time.monotonic() + SERVICE_TIMEOUT
    while time.monotonic() < deadline:
        output = log_path.read_text(encoding="utf-8", errors="replace")
        if match := LISTENING.search(output):
            return process, match.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"smoke: the inference service did not start:\n{output[-3000:]}")


def write_config(config: Path, url: str) -> Path:
    """Write Home Assistant's configuration: the camera, the anpr entry, the automation."""
    (config / ".storage").mkdir(parents=True)
    (config / "custom_components").mkdir()
    (config / "custom_components" / "anpr").symlink_to(REPO / "custom_components" / "anpr")
    (config / "configuration.yaml").write_text(
        CONFIGURATION.format(camera=CAMERA), encoding="utf-8"
    )
    camera = {
        CAMERA: {
            "triggers": [],
            "scan_interval": 3600,
            "burst_frames": 2,
            "burst_interval": 0,
            "region": "br",
            "min_confidence": 0.3,
            "hold_time": 60,
            "cooldown": 300,
        }
    }
    entries = [
        entry(CAMERA_ENTRY, "local_file", "Driveway", {},
              {"name": "Driveway", "file_path": str(PHOTO)}, None),
        entry(ANPR_ENTRY, "anpr", "ANPR (127.0.0.1)", {"url": url, "api_key": API_KEY},
              {"cameras": camera, "request_timeout": 120, "default_region": "br"}, "smoke"),
    ]  # fmt: skip
    document = {"version": 1, "minor_version": 1, "key": "core.config_entries"}
    document["data"] = {"entries": entries}
    (config / ".storage" / "core.config_entries").write_text(json.dumps(document), "utf-8")
    return config


def entry(  # noqa: PLR0913, PLR0917  # one stored entry's fields, in the order they are listed
    entry_id: str,
    domain: str,
    title: str,
    data: dict[str, object],
    options: dict[str, object],
    unique_id: str | None,
) -> dict[str, object]:
    """Return a stored config entry of the oldest layout (Home Assistant migrates it)."""
    return {
        "entry_id": entry_id,
        "version": 1,
        "minor_version": 1,
        "domain": domain,
        "title": title,
        "data": data,
        "options": options,
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "unique_id": unique_id,
        "disabled_by": None,
    }


def free_port() -> int:
    """Return a TCP port free on this machine (other Home Assistants may run on 8123)."""
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_hass(config: Path) -> int:
    """Run Home Assistant in the Python 3.14 root until the automation stops it."""
    # Its web server on a free port (SETUP_PORT: 2026.11 keeps `http:` settings in the UI),
    # as other Home Assistants may use 8123 here. Requirements of the integrations a bare
    # start loads are installed by Home Assistant itself into the venv, as for a user.
    command = (
        ". script/latest-root && in_latest_root env PYTHONWARNINGS=always::DeprecationWarning "
        f"SETUP_PORT={free_port()} {HASS_PYTHON} -m homeassistant --config {config}"
    )
    with (config / "hass.out").open("w", encoding="utf-8") as out:
        process = subprocess.Popen(  # noqa: S603
            ["bash", "-c", command],  # noqa: S607
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            return process.wait(timeout=HASS_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=60)
            print(f"smoke: Home Assistant did not stop within {HASS_TIMEOUT:.0f} s")
            return -1


def check(config: Path, status: int) -> int:
    """Return 0 when the run was clean and the integration did its work, else 1."""
    # Home Assistant's log, and its output: the same records and Python's own warnings.
    log = read(config / "home-assistant.log")
    output = read(config / "hass.out")
    problems = [
        record
        for record in records(log) + records(output)
        if "anpr" in record.lower()
        and not any(expected in record for expected in EXPECTED)
        and (
            level(record) in {"WARNING", "ERROR", "CRITICAL"}
            or re.search(r"deprecat", record, re.IGNORECASE)
        )
    ]
    if status != 0:
        problems.append(f"Home Assistant exited with status {status}")
    devices = storage(config, "core.device_registry").get("devices", [])
    service = next((d for d in devices if ["anpr", "smoke"] in d["identifiers"]), None)
    camera = next((d for d in devices if d.get("model") == "Watched camera"), None)
    if service is None or camera is None:
        problems.append(f"anpr's devices are missing: {devices}")
    elif camera.get("via_device_id") != service["id"]:
        problems.append(f"the camera device is not under the service's: {camera}")
    entities = storage(config, "core.entity_registry").get("entities", [])
    if not any(e["entity_id"] == "sensor.driveway_last_plate" for e in entities):
        problems.append("sensor.driveway_last_plate was not registered")
    if PLATE not in json.dumps(storage(config, f"anpr.history.{ANPR_ENTRY}")):
        problems.append(f"the visit history has no read of {PLATE}")
    if f"smoke read: ['{PLATE}'" not in log:
        problems.append(f"the scan action did not answer {PLATE} first")
    if problems:
        print(f"smoke: FAILED on Home Assistant {version()}; log follows", file=sys.stderr)
        print(log[-20000:], file=sys.stderr)
        for problem in problems:
            print(f"smoke: {problem}", file=sys.stderr)
        return 1
    print(f"smoke: Home Assistant {version()} loaded anpr, read {PLATE}, logged nothing of anpr")
    return 0


def records(log: str) -> list[str]:
    """Split a log into records (a record's traceback stays with it)."""
    starts = [match.start() for match in RECORD_START.finditer(log)] + [len(log)]
    head = [log[: starts[0]]] if starts[0] else []
    return head + [log[start:end] for start, end in itertools.pairwise(starts)]


def level(record: str) -> str:
    """Return a record's level; empty for text outside records (Python's own warnings)."""
    return match.group(1) if (match := RECORD_START.match(record)) else ""


def storage(config: Path, key: str) -> dict[str, object]:
    """Return the data of a `.storage` document, empty when it is missing."""
    path = config / ".storage" / key
    return json.loads(path.read_text("utf-8"))["data"] if path.is_file() else {}


def read(path: Path) -> str:
    """Return a text file's contents, empty when it is missing."""
    return path.read_text("utf-8", errors="replace") if path.is_file() else ""


def version() -> str:
    """Return the smoke run's Home Assistant version, as its package says."""
    match = re.search(r"homeassistant-([\d.]+)\.dist-info", " ".join(installed()))
    return match.group(1) if match else "(unknown)"


def installed() -> list[str]:
    """Return the names in the smoke venv's site-packages, seen from this side of the root."""
    root = Path(os.environ.get("ANPR_CACHE", Path.home() / ".cache" / "anpr")) / "forky"
    venv = root / HASS_PYTHON.removeprefix("/").removesuffix("/bin/python")
    return [path.name for path in venv.glob("lib/python3*/site-packages/*")]


if __name__ == "__main__":
    sys.exit(main())
