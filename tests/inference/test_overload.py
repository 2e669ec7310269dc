"""The service under overload and across restarts, as a real process.

- A burst far beyond `workers + max_queue` gets 200s and 503s with `Retry-After` and nothing
  else, the queue never grows past its bound, and `/v1/health` answers all along.
- SIGTERM lets requests already admitted finish, queued ones included, before the process
  exits; started again on the same data directory, the service comes back with the same
  instance id and answers.

The overload and restart tests run `anpr-inference serve` with the real models (the embedded
text detector and the shared OCR model) on real photos, started the way `anpr-inference load`
starts it; the queued-requests test uses a gated fake engine so that "queued" is certain.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import signal
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from anpr_inference.config import ServiceConfig
from anpr_inference_tools.loadservice import start_service, stop_service

from .test_server import _refuses_connections, _start_service

if TYPE_CHECKING:
    from pathlib import Path

    from yarl import URL

WORKERS = 1
MAX_QUEUE = 2
BURST = 20


def real_config(models_dir: Path, tmp_path: Path, **settings: Any) -> ServiceConfig:
    """Return real settings: embedded detector, the shared OCR model, nothing downloaded."""
    return ServiceConfig(
        detector="embedded",
        ocr="file",
        ocr_path=models_dir / "cct_xs_v1_global.onnx",
        ocr_config_path=models_dir / "cct_xs_v1_global_plate_config.yaml",
        model_dir=tmp_path / "models",
        data_dir=tmp_path / "data",
        allow_download=False,
        **settings,
    )


@dataclass
class HealthLog:
    """What health said while the burst was on."""

    statuses: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    answered_during_burst: int = 0


async def poll_health(url: URL, burst: asyncio.Future[Any], log: HealthLog) -> None:
    """Poll health on a connection of its own until the burst is over."""
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.get(url / "v1/health") as response:
                log.statuses.append(response.status)
                log.pending.append((await response.json())["queue"]["pending"])
            if burst.done():
                return
            log.answered_during_burst += 1
            await asyncio.sleep(0.02)


async def test_overload_sheds_load_and_health_stays_responsive(
    models_dir: Path, tmp_path: Path, sample_photos: dict[str, bytes]
) -> None:
    config = real_config(models_dir, tmp_path, workers=WORKERS, max_queue=MAX_QUEUE)
    service, url = await start_service(config, startup_timeout=300)
    photos = list(sample_photos.values())
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def recognize(index: int) -> tuple[int, str | None, str]:
                async with session.post(
                    url / "v1/recognize",
                    data=photos[index % len(photos)],
                    headers={"Content-Type": "image/jpeg"},
                ) as response:
                    body = await response.json()
                    code = body["error"]["code"] if response.status != 200 else "ok"
                    return response.status, response.headers.get("Retry-After"), code

            burst = asyncio.ensure_future(asyncio.gather(*(recognize(i) for i in range(BURST))))
            log = HealthLog()
            await asyncio.gather(burst, poll_health(url, burst, log))
            answers = burst.result()

            statuses = sorted(status for status, _, _ in answers)
            assert set(statuses) <= {200, 503}, answers
            assert statuses.count(200) >= 1, answers
            # Far more requests than the service may hold at once: the rest are shed.
            assert statuses.count(503) >= 1, answers
            for status, retry_after, code in answers:
                if status == 503:
                    assert code == "overloaded"
                    assert retry_after is not None
                    assert int(retry_after) >= 1

            # Health answered while every worker was busy, and the queue kept its bound.
            assert log.answered_during_burst >= 1
            assert set(log.statuses) == {200}
            assert max(log.pending) <= MAX_QUEUE

            # Capacity comes back: the queue is empty and a new request is recognised.
            async with session.get(url / "v1/health") as response:
                assert (await response.json())["queue"]["pending"] == 0
            status, _, code = await recognize(0)
            assert (status, code) == (200, "ok")
    finally:
        exit_code = await stop_service(service)
    assert exit_code == 0, "\n".join(service.stderr_tail)


async def test_sigterm_lets_admitted_requests_finish_queued_ones_included(
    tmp_path: Path, sample_photos: dict[str, bytes]
) -> None:
    """Three requests are in (one running on the single worker, two queued) at SIGTERM."""
    process, port = await _start_service(tmp_path, "announce")
    assert process.stdout is not None
    base = f"http://127.0.0.1:{port}"
    jpeg = sample_photos["br/AYO9034.jpg"]
    try:
        assert (await process.stdout.readline()).decode().strip() == f"announced {port}"
        async with aiohttp.ClientSession() as session:

            async def recognize() -> int:
                async with session.post(
                    f"{base}/v1/recognize", data=jpeg, headers={"Content-Type": "image/jpeg"}
                ) as response:
                    await response.read()
                    return response.status

            requests = [asyncio.ensure_future(recognize()) for _ in range(3)]
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line.decode().strip() == "recognize started"
            for _ in range(3000):  # until both others are admitted and waiting
                async with session.get(f"{base}/v1/health") as response:
                    if (await response.json())["queue"]["pending"] == 2:
                        break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the two queued requests never showed in health")

            process.send_signal(signal.SIGTERM)
            for _ in range(2000):  # the listener closes first...
                if await _refuses_connections(port):
                    break
                await asyncio.sleep(0.01)
            assert await _refuses_connections(port)
            (tmp_path / "release").touch()  # ...then every admitted request may finish

            assert await asyncio.wait_for(asyncio.gather(*requests), 60) == [200, 200, 200]
        _, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()


async def test_restart_on_the_same_data_dir_keeps_the_instance_id(
    models_dir: Path, tmp_path: Path, sample_photos: dict[str, bytes]
) -> None:
    config = real_config(models_dir, tmp_path)
    jpeg = sample_photos["br/AYO9034.jpg"]
    identities = []
    for _ in range(2):
        service, url = await start_service(config, startup_timeout=300)
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(url / "v1/health") as response:
                    assert response.status == 200
                    identities.append((await response.json())["instance_id"])
                async with session.post(
                    url / "v1/recognize", data=jpeg, headers={"Content-Type": "image/jpeg"}
                ) as response:
                    assert response.status == 200
                    plates = (await response.json())["plates"]
                    assert plates[0]["normalized"] == "AYO9034"
        finally:
            exit_code = await stop_service(service)
        assert exit_code == 0, "\n".join(service.stderr_tail)
    assert identities[0] == identities[1]
    assert (tmp_path / "data" / "instance_id").read_text().strip() == identities[0]
