"""The service against hostile clients, as a real process with the real models.

Each test starts `anpr-inference serve` (embedded text detector, the shared OCR model) the
way `anpr-inference load` does and talks to it over raw sockets where a well-behaved client
library would not misbehave on purpose:

- 20 clients trickling their uploads hold no admission slot: a normal client is answered;
- a body that stops, or arrives too slowly, gets 408 and its connection is closed; headers
  that never finish are cut off too;
- a `Content-Length` of 10^26 or -5 gets a JSON 400 and one log line, no traceback;
- no key, token or credential sent anywhere in a request reaches the log;
- the service's peak memory (the kernel's VmHWM of its process) stays bounded for a PNG
  bomb and for a 24 MP JPEG.

Bounds on time are generous (a loaded 2-core machine must pass): they tell "answered" from
"starved", they do not measure speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
from typing import TYPE_CHECKING, Any

import aiohttp
from PIL import Image
import pytest

from anpr_inference_tools.loaddrive import read_proc_status, trickle
from anpr_inference_tools.loadreport import SlowTally
from anpr_inference_tools.loadservice import start_service, stop_service

from .test_overload import real_config

if TYPE_CHECKING:
    from pathlib import Path

    from yarl import URL

    from anpr_inference_tools.loadservice import _Service

SLOW_CLIENTS = 20
ANSWER_BOUND = 120.0
"""Seconds a normal client may take to be answered while the slow ones trickle: a recognition
takes well under a second; starved, it would wait for as long as the trickling lasts."""
CLOSE_BOUND = 30.0
"""Seconds the service may take to close a connection it is done with (2 s of lingering)."""
MIB = 2**20
BOMB_PEAK_BOUND = 32 * MIB
"""How much the service's peak memory may grow for the 6300 x 6300 PNG bomb (it is refused
from its header now; decoded, it cost some 420 MiB)."""
JPEG_PEAK_BOUND = 160 * MIB
"""How much the service's peak memory may grow for a 24 MP JPEG (about 60-70 MiB measured,
decoded at half size; decoded whole, it cost some 230 MiB)."""


async def _start(models_dir: Path, tmp_path: Path, **settings: Any) -> tuple[_Service, URL]:
    return await start_service(
        real_config(models_dir, tmp_path, **settings), startup_timeout=300, log_lines=100_000
    )


async def _stop(service: _Service) -> list[str]:
    """Stop the service gracefully; return every line it logged."""
    exit_code = await stop_service(service)
    lines = list(service.stderr_tail)
    assert exit_code == 0, "\n".join(lines)
    return lines


async def _connect(url: URL) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    assert url.host is not None
    assert url.port is not None
    return await asyncio.open_connection(url.host, url.port)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP answer: status, headers (lower-case names) and body."""
    async with asyncio.timeout(ANSWER_BOUND):
        status_line = await reader.readline()
        match = re.match(rb"HTTP/1\.[01] (\d{3}) ", status_line)
        assert match is not None, status_line
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(match.group(1)), headers, body


def _error_code(body: bytes) -> str:
    document = json.loads(body)
    assert set(document) == {"error"}
    code: str = document["error"]["code"]
    return code


async def _closed_by_the_server(reader: asyncio.StreamReader) -> bool:
    """Whether the server closes the connection within `CLOSE_BOUND` (what it sends is dropped)."""
    try:
        async with asyncio.timeout(CLOSE_BOUND):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except OSError:  # reset, or the pipe broken under a write of ours
        pass
    return True


def _head(url: URL, *, length: int | str, extra: str = "", path: str = "/v1/recognize") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
        f"Content-Type: image/jpeg\r\nContent-Length: {length}\r\n{extra}\r\n"
    ).encode()


# --- slow clients --------------------------------------------------------------------------


async def test_slow_uploads_cannot_starve_a_normal_client(
    models_dir: Path, tmp_path: Path, sample_photos: dict[str, bytes]
) -> None:
    # Three admission slots; twenty uploads that would take minutes each.
    service, url = await _start(models_dir, tmp_path, workers=1, max_queue=2, body_timeout=600)
    tally = SlowTally()
    slow = [
        asyncio.create_task(trickle(url / "v1/recognize", 0.5, tally)) for _ in range(SLOW_CLIENTS)
    ]
    try:
        for _ in range(600):
            if tally.connections >= SLOW_CLIENTS:
                break
            await asyncio.sleep(0.05)
        assert tally.connections == SLOW_CLIENTS
        await asyncio.sleep(1.0)  # every slow client is in the middle of its body now
        async with aiohttp.ClientSession() as session:
            async with session.get(url / "v1/health") as response:
                health = await response.json()
            # Bodies being received hold no slot, so the service is neither busy nor full.
            assert health["status"] == "ok"
            assert health["queue"]["pending"] == 0
            async with session.post(
                url / "v1/recognize",
                data=sample_photos["br/AYO9034.jpg"],
                headers={"Content-Type": "image/jpeg"},
                timeout=aiohttp.ClientTimeout(total=ANSWER_BOUND),
            ) as response:
                assert response.status == 200, await response.text()
                assert (await response.json())["plates"][0]["normalized"] == "AYO9034"
        # ...and the slow clients were still trickling all along.
        assert not tally.answers
        assert tally.hung_up == 0
    finally:
        for task in slow:
            task.cancel()
        await asyncio.gather(*slow, return_exceptions=True)
        await _stop(service)


async def test_late_bodies_get_408_and_unfinished_headers_are_cut_off(
    models_dir: Path, tmp_path: Path
) -> None:
    # Over BODY_IDLE_TIMEOUT (10 s), so a pause and a late body end differently.
    service, url = await _start(models_dir, tmp_path, body_timeout=12, header_timeout=2)
    writers: list[asyncio.StreamWriter] = []
    try:
        # A body shorter than declared: nothing more comes, so the pause ends it.
        short_reader, short = await _connect(url)
        writers.append(short)
        short.write(_head(url, length=1000) + b"\xff\xd8\xff" + b"\0" * 7)
        # A body that keeps coming, too slowly for the deadline.
        slow_reader, slow = await _connect(url)
        writers.append(slow)
        slow.write(_head(url, length=1000))

        async def drip() -> None:
            with contextlib.suppress(OSError):
                while True:
                    slow.write(b"\0")
                    await slow.drain()
                    await asyncio.sleep(0.3)

        # Headers that never end.
        headers_reader, headers = await _connect(url)
        writers.append(headers)
        headers.write(b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\n")

        async def drip_headers() -> None:
            with contextlib.suppress(OSError):
                for index in range(1000):
                    headers.write(f"X-Slow-{index}: 1\r\n".encode())
                    await headers.drain()
                    await asyncio.sleep(0.3)

        dripping = [asyncio.create_task(drip()), asyncio.create_task(drip_headers())]
        try:
            status, answer_headers, body = await _read_answer(short_reader)
            assert (status, _error_code(body)) == (408, "request_timeout")
            assert "no part of the body arrived for 10 s" in json.loads(body)["error"]["message"]
            assert answer_headers.get("connection", "").lower() == "close"
            assert await _closed_by_the_server(short_reader)

            status, _, body = await _read_answer(slow_reader)
            assert (status, _error_code(body)) == (408, "request_timeout")
            assert "did not arrive within 12 s" in json.loads(body)["error"]["message"]
            assert await _closed_by_the_server(slow_reader)

            # No answer for a request that never started, but no connection held either.
            assert await _closed_by_the_server(headers_reader)
        finally:
            for task in dripping:
                task.cancel()
            await asyncio.gather(*dripping, return_exceptions=True)

        async with aiohttp.ClientSession() as session, session.get(url / "metrics") as response:
            metrics = await response.text()
        assert 'anpr_http_errors_total{code="request_timeout"} 2.0' in metrics
        assert "anpr_degraded 0.0" in metrics
    finally:
        for writer in writers:
            writer.close()
        await _stop(service)


# --- malformed requests and secrets --------------------------------------------------------


async def test_invalid_content_length_is_a_clean_400(models_dir: Path, tmp_path: Path) -> None:
    service, url = await _start(models_dir, tmp_path)
    try:
        for length in ("100000000000000000000000000", "-5"):
            reader, writer = await _connect(url)
            try:
                writer.write(_head(url, length=length))
                status, headers, body = await _read_answer(reader)
            finally:
                writer.close()
            assert status == 400
            assert headers["content-type"].startswith("application/json")
            assert _error_code(body) == "invalid_parameter"
            assert "Content-Length" in json.loads(body)["error"]["message"]
    finally:
        lines = await _stop(service)
    refusals = [line for line in lines if "Refused a malformed request" in line]
    assert len(refusals) == 2, lines
    assert not any("Traceback" in line or " ERROR " in line for line in lines), lines


async def test_keys_and_credentials_never_reach_the_log(
    models_dir: Path, tmp_path: Path, sample_photos: dict[str, bytes]
) -> None:
    key = "the-real-key-0123"
    secrets = [f"leaked-secret-{index}" for index in range(9)]
    service, url = await _start(models_dir, tmp_path, api_key=key, log_level="debug")
    try:
        async with aiohttp.ClientSession() as session:
            requests: list[tuple[str, str, dict[str, str], int]] = [
                ("GET", f"/metrics?api_key={secrets[0]}", {}, 401),
                (
                    "POST",
                    f"/v1/recognize?region=br&token={secrets[1]}&key={secrets[2]}",
                    {"Authorization": f"Bearer {secrets[3]}"},
                    401,
                ),
                (
                    "GET",
                    f"/v1/health?access_token={secrets[4]}",
                    {"Referer": f"http://camera.local/view?x-api-key={secrets[5]}"},
                    200,
                ),
                ("GET", f"/nowhere?API_KEY={secrets[6]}", {"Authorization": "Basic " + key}, 401),
                (
                    "POST",
                    f"/v1/recognize?api_key={key}",
                    {"Authorization": f"Bearer {key}", "Content-Type": "image/jpeg"},
                    200,
                ),
            ]
            for method, path, headers, expected in requests:
                async with session.request(
                    method,
                    f"http://{url.host}:{url.port}{path}",
                    headers=headers,
                    data=sample_photos["br/AYO9034.jpg"] if method == "POST" else None,
                ) as response:
                    assert response.status == expected, (path, await response.text())
        # A request aiohttp's parser refuses, with secrets in its request line and headers.
        reader, writer = await _connect(url)
        try:
            writer.write(
                _head(
                    url,
                    length="-5",
                    path=f"/v1/recognize?api_key={secrets[7]}",
                    extra=f"Authorization: Bearer {secrets[8]}\r\n",
                )
            )
            assert (await _read_answer(reader))[0] == 400
        finally:
            writer.close()
    finally:
        lines = await _stop(service)
    log = "\n".join(lines)
    for secret in [key, *secrets]:
        assert secret not in log, [line for line in lines if secret in line]
    # The requests were logged, with what would have leaked replaced.
    access = [line for line in lines if "aiohttp.access" in line]
    assert len(access) >= len(requests), lines
    assert any("api_key=REDACTED" in line for line in access), access
    assert any("x-api-key=REDACTED" in line for line in access), access


# --- memory --------------------------------------------------------------------------------


def _png_bomb() -> bytes:
    """Return a 5 KB PNG that decodes to 6300 x 6300 pixels, just under the default `max_pixels`."""
    buffer = io.BytesIO()
    Image.new("1", (6300, 6300)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _jpeg_24_mp(photo: bytes) -> bytes:
    """Return a real 1280 x 720 car photo enlarged to 6000 x 4000 (24 MP), as a JPEG."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo)).resize((6000, 4000)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def test_peak_memory_of_a_png_bomb_and_a_24_mp_jpeg(
    models_dir: Path, tmp_path: Path, sample_photos: dict[str, bytes]
) -> None:
    bomb = _png_bomb()
    assert len(bomb) < 10_000
    big = _jpeg_24_mp(sample_photos["br/AYO9034.jpg"])
    service, url = await _start(models_dir, tmp_path)
    pid = service.process.pid
    try:
        async with aiohttp.ClientSession() as session:

            async def recognize(data: bytes, media_type: str) -> tuple[int, dict[str, Any]]:
                async with session.post(
                    url / "v1/recognize", data=data, headers={"Content-Type": media_type}
                ) as response:
                    return response.status, await response.json()

            idle = read_proc_status(pid, "VmHWM")
            assert idle is not None
            status, body = await recognize(bomb, "image/png")
            assert (status, body["error"]["code"]) == (413, "image_too_large")
            after_bomb = read_proc_status(pid, "VmHWM")
            assert after_bomb is not None
            assert after_bomb - idle <= BOMB_PEAK_BOUND

            status, body = await recognize(big, "image/jpeg")
            assert status == 200, body
            after_jpeg = read_proc_status(pid, "VmHWM")
            assert after_jpeg is not None
            assert after_jpeg - after_bomb <= JPEG_PEAK_BOUND
    finally:
        await _stop(service)
    # Read from a reduced copy, answered in the photo's own coordinates: the plate is
    # where it is in the 1280 x 720 original, 4.69 x 5.56 times larger.
    assert body["image"] == {"width": 6000, "height": 4000}
    plate = body["plates"][0]
    assert plate["normalized"] == "AYO9034"
    box = plate["box"]
    centre = ((box["x1"] + box["x2"]) / 2 / 6000 * 1280, (box["y1"] + box["y2"]) / 2 / 4000 * 720)
    assert centre == pytest.approx((611, 438), abs=20)
