"""Issue 17, part 6: the access rule on real photos, with the real service; prints the table.

Every photo of `../shared/datasets/openalpr-benchmarks` (br, us) is read once by the real
service (the session's `inference_service`), with the folder's region, as a camera burst of
two identical frames would see a parked car. Every labelled plate is registered as a
resident (a plate the registry refuses beside another is left out, and counted).

* Strangers: with every plate registered but the photo's own, no read of the photo may open
  the gate.
* True accepts: with its own plate registered too, how many photos open the gate for it,
  and why the others do not.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import aiohttp

from custom_components.anpr.access import classify
from custom_components.anpr.api import AnprClient, Recognition
from custom_components.anpr.registry import PlateRegistry, RegistryError, async_get_registry
from custom_components.anpr.voting import vote

from .conftest import SHARED
from .real_service import API_KEY

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant

DATASET = SHARED / "datasets" / "openalpr-benchmarks"
REGIONS = ("br", "us")


def labels(image: Path) -> list[str]:
    """Return the plates labelled in a photo (the last column of each line of its .txt)."""
    text = image.with_suffix(".txt").read_text(encoding="utf-8")
    return [line.split("\t")[-1].strip().upper() for line in text.splitlines() if line.strip()]


async def read_all(url: str) -> dict[Path, tuple[str, Recognition]]:
    """Read every photo once with the real service, with its folder's region."""
    readings: dict[Path, tuple[str, Recognition]] = {}
    async with aiohttp.ClientSession() as session:
        client = AnprClient(session, url, API_KEY, request_timeout=120)
        for region in REGIONS:
            for image in sorted((DATASET / region).glob("*.jpg")):
                recognition = await client.recognize(
                    image.read_bytes(), "image/jpeg", region=region
                )
                readings[image] = (region, recognition)
    return readings


async def register(registry: PlateRegistry, plates: list[str]) -> list[str]:
    """Register each plate as a resident; return the ones the registry refused."""
    refused = []
    for plate in plates:
        try:
            registry.async_add(plate, f"Owner {plate}")
        except RegistryError:
            refused.append(plate)
    return refused


def verdicts(registry: PlateRegistry, recognition: Recognition) -> list[tuple[str, str, str]]:
    """Classify each vehicle of a burst of two identical frames: (plate, opened-for, why)."""
    results = []
    for voted in vote([recognition.plates, recognition.plates]):
        decision = classify(registry, voted.evidence)
        opened = decision.matched_plate or "" if decision.access_granted else ""
        results.append((voted.plate, opened, decision.evidence or decision.match or "no_match"))
    return results


async def test_real_photos_strangers_and_true_accepts(
    hass: HomeAssistant, socket_enabled: None, inference_service: str
) -> None:
    readings = await read_all(inference_service)
    registry = await async_get_registry(hass, "photos")
    everyone = sorted({plate for image in readings for plate in labels(image)})
    refused = await register(registry, everyone)
    rows: dict[str, Counter[str]] = {region: Counter() for region in REGIONS}
    strangers_in: list[str] = []
    for image, (region, recognition) in readings.items():
        row = rows[region]
        own = [plate for plate in labels(image) if plate in registry.plates]
        row["photos"] += 1
        for plate in own:
            registry.async_remove(plate)
        opened = [v for v in verdicts(registry, recognition) if v[1]]
        row["strangers let in"] += bool(opened)
        strangers_in += [f"{image.name}: {v}" for v in opened]
        await register(registry, own)
        if not own:
            row["own plate not registrable"] += 1
            continue
        results = verdicts(registry, recognition)
        if any(opened_for in own for _, opened_for, _ in results):
            row["own plate let in"] += 1
        else:
            why = next((why for plate, _, why in results if plate in own), "own plate not read")
            row[f"not let in: {why}"] += 1
        row["other plate let in"] += any(v[1] and v[1] not in own for v in results)
    keys = sorted({key for row in rows.values() for key in row} - {"photos"})
    table = [
        "| | " + " | ".join(REGIONS) + " |",
        "|---|" + "---|" * len(REGIONS),
        *(
            f"| {key} | " + " | ".join(str(rows[region][key]) for region in REGIONS) + " |"
            for key in ["photos", *keys]
        ),
    ]
    print(  # noqa: T201 - the table is the check's report (issue 17)
        "\n".join(
            [
                "",
                (
                    f"{len(everyone)} labelled plates, {len(refused)} refused by the registry "
                    f"beside another ({', '.join(refused)}):"
                ),
                *table,
            ]
        )
    )
    assert not strangers_in, strangers_in
    assert all(row["other plate let in"] == 0 for row in rows.values())
    assert sum(row["own plate let in"] for row in rows.values()) > 0
