"""Time from a camera's trigger to its visit event, in a real Home Assistant (issue 17, part 5).

    .venv/bin/python script/measure_decision_time.py [--component DIR] [--scans 20]

Runs the real inference service (development venv, embedded detector, the OCR model from
../shared/models) and Home Assistant through `script/hass` with a temporary configuration: a
`local_file` camera, an `input_boolean` as its trigger, an anpr entry with the default burst
(3 frames, 0.5 s apart) and a registry holding the plates of the photos as residents. An
automation shows the camera one real photo of ../shared/datasets/openalpr-benchmarks/br after
another, turns the trigger on, waits for the visit's `anpr_plate_detected` event and lets the
burst finish; two more log the trigger's and the event's times as Home Assistant records them.
Prints each scan and the median. `--component` picks the integration to run (another
checkout's `custom_components/anpr`, to compare before and after).
"""

from __future__ import annotations

import argparse
from datetime import datetime
import json
from pathlib import Path
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smoke_latest import API_KEY, entry, free_port, start_service

REPO = Path(__file__).resolve().parents[1]
PHOTOS = (REPO / ".." / "shared" / "datasets" / "openalpr-benchmarks" / "br").resolve()
ANPR_ENTRY = "01MEASUREANPR0000000000000"
CAMERA_ENTRY = "01MEASURECAMERA00000000000"
CAMERA = "camera.driveway"
TRIGGER = "input_boolean.car_at_gate"
HASS_TIMEOUT = 900.0
MEASURE = re.compile(r"measure (trigger|event) (\S+)(?: (\S+) (\S+))?")

CONFIGURATION = """\
homeassistant:
  name: anpr timing
  latitude: 0
  longitude: 0
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: BR
http:
  server_port: {port}
logger:
  default: warning
  logs:
    measure: info
input_boolean:
  car_at_gate:
    name: Car at gate
automation:
  - alias: measure trigger
    triggers:
      - trigger: state
        entity_id: {trigger}
        to: "on"
    actions:
      - action: system_log.write
        data:
          level: info
          logger: measure
          message: "measure trigger {{{{ trigger.to_state.last_changed.isoformat() }}}}"
  - alias: measure event
    triggers:
      - trigger: event
        event_type: anpr_plate_detected
    actions:
      - action: system_log.write
        data:
          level: info
          logger: measure
          message: >-
            measure event {{{{ trigger.event.time_fired.isoformat() }}}}
            {{{{ trigger.event.data.plate }}}} {{{{ trigger.event.data.access_granted }}}}
  - alias: drive cars past the camera
    mode: single
    triggers:
      - trigger: homeassistant
        event: start
    actions:
      - delay: 10
{scans}
      - action: homeassistant.stop
"""
SCAN = """\
      - action: local_file.update_file_path
        target:
          entity_id: {camera}
        data:
          file_path: {photo}
      - delay: 1
      - action: input_boolean.turn_on
        target:
          entity_id: {trigger}
      - wait_for_trigger:
          - trigger: event
            event_type: anpr_plate_detected
        timeout: 60
      - delay: 4
      - action: input_boolean.turn_off
        target:
          entity_id: {trigger}
      - delay: 1
"""


def main() -> int:
    """Measure; print each scan and the median."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--component", type=Path, default=REPO / "custom_components" / "anpr")
    parser.add_argument("--scans", type=int, default=20)
    args = parser.parse_args()
    photos = sorted(PHOTOS.glob("*.jpg"))[: args.scans]
    work = Path(tempfile.mkdtemp(prefix="anpr-timing-"))
    try:
        service, url = start_service(work / "service")
        try:
            config = write_config(work / "config", url, photos, args.component.resolve())
            status = subprocess.run(  # noqa: S603
                [str(REPO / "script" / "hass"), "-c", str(config)],
                cwd=REPO,
                stdout=(config / "hass.out").open("w"),
                stderr=subprocess.STDOUT,
                timeout=HASS_TIMEOUT,
                check=False,
            ).returncode
        finally:
            service.terminate()
            service.wait(timeout=30)
        return report(config, status, args.component)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_config(config: Path, url: str, photos: list[Path], component: Path) -> Path:
    """Write the configuration, the two config entries and the registry of the photos."""
    (config / ".storage").mkdir(parents=True)
    (config / "custom_components").mkdir()
    (config / "custom_components" / "anpr").symlink_to(component)
    scans = "".join(SCAN.format(camera=CAMERA, photo=photo, trigger=TRIGGER) for photo in photos)
    (config / "configuration.yaml").write_text(
        CONFIGURATION.format(port=free_port(), trigger=TRIGGER, scans=scans.rstrip("\n")),
        encoding="utf-8",
    )
    camera = {
        CAMERA: {
            "triggers": [TRIGGER], "scan_interval": 0, "burst_frames": 3, "burst_interval": 0.5,
            "region": "br", "min_confidence": 0.3, "hold_time": 60, "cooldown": 300,
        }
    }  # fmt: skip
    entries = [
        entry(CAMERA_ENTRY, "local_file", "Driveway", {},
              {"name": "Driveway", "file_path": str(photos[0])}, None),
        entry(ANPR_ENTRY, "anpr", "ANPR (127.0.0.1)", {"url": url, "api_key": API_KEY},
              {"cameras": camera, "request_timeout": 120, "default_region": "br"}, "timing"),
    ]  # fmt: skip
    store(config, "core.config_entries", {"entries": entries})
    plates = [
        {"plate": line.split("\t")[-1].strip(), "name": photo.stem, "category": "resident",
         "uid": photo.stem}
        for photo in photos
        for line in photo.with_suffix(".txt").read_text("utf-8").splitlines() if line.strip()
    ]  # fmt: skip
    store(config, f"anpr.registry.{ANPR_ENTRY}", {"plates": plates}, minor_version=3)
    return config


def store(config: Path, key: str, data: dict[str, object], minor_version: int = 1) -> None:
    """Write one `.storage` document."""
    document = {"version": 1, "minor_version": minor_version, "key": key, "data": data}
    (config / ".storage" / key).write_text(json.dumps(document), "utf-8")


def report(config: Path, status: int, component: Path) -> int:
    """Pair each trigger with the first visit event after it; print the scans and the median."""
    log = (config / "home-assistant.log").read_text("utf-8", errors="replace")
    times: list[tuple[float, str, str]] = []
    trigger: datetime | None = None
    for kind, stamp, plate, granted in MEASURE.findall(log):
        moment = datetime.fromisoformat(stamp)
        if kind == "trigger":
            trigger = moment
        elif trigger is not None:
            times.append(((moment - trigger).total_seconds() * 1000, plate, granted))
            trigger = None
    print(f"{component}: Home Assistant exited with {status}; {len(times)} scans")
    for ms, plate, granted in times:
        print(f"  {plate:10} granted={granted:5} {ms:7.0f} ms")
    if not times:
        print((config / "hass.out").read_text("utf-8", errors="replace")[-3000:])
        return 1
    granted_times = [ms for ms, _, granted in times if granted == "True"]
    overall = statistics.median(ms for ms, _, _ in times)
    print(f"median trigger -> visit event: {overall:.0f} ms overall", end="")
    if granted_times:
        print(f", {statistics.median(granted_times):.0f} ms for the {len(granted_times)} let in")
    else:
        print()
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
