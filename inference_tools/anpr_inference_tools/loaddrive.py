"""Driving the service: open-loop cameras, a health poller, slow uploaders, memory samples."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import functools
import importlib
import json
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any, Final

import aiohttp

from anpr_inference.server import HEALTH_PATH, RECOGNIZE_PATH

from .loadreport import LoadReport, LoadSettings, MemoryReport, SlowTally, Tally, Target

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from yarl import URL

MEDIA_TYPES: Final = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}
"""Files the command sends, by suffix, with the media type they are sent as."""

HEALTH_INTERVAL: Final = 1.0
RSS_INTERVAL: Final = 0.25


class LoadError(Exception):
    """The load cannot run: no images, a bad target, a service that does not start."""


@dataclass(frozen=True, slots=True)
class Photo:
    """One image the cameras send."""

    name: str
    data: bytes
    content_type: str


def load_photos(folder: Path, limit: int) -> list[Photo]:
    """Read up to `limit` JPEG, PNG and WebP files under `folder` (sorted, recursively).

    The bytes are sent as they are: decoding is the service's work, and part of what is
    measured. The limit bounds the client's memory on a large dataset.
    """
    if not folder.is_dir():
        raise LoadError(f"{folder} is not a folder")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MEDIA_TYPES and p.is_file())[
        :limit
    ]
    photos: list[Photo] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as err:
            raise LoadError(f"cannot read {path}: {err}") from err
        photos.append(Photo(str(path.relative_to(folder)), data, MEDIA_TYPES[path.suffix.lower()]))
    if not photos:
        raise LoadError(f"no JPEG, PNG or WebP images in {folder}")
    return photos


async def drive(
    base_url: URL,
    photos: Sequence[Photo],
    settings: LoadSettings,
    *,
    api_key: str | None = None,
    sample_rss: Callable[[], int | None] | None = None,
    memory: MemoryReport | None = None,
    target: Target | None = None,
) -> LoadReport:
    """Run the cameras against `base_url`, `sample_rss` into `memory` meanwhile; report."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    recognize_url = base_url / RECOGNIZE_PATH.lstrip("/")
    health_url = base_url / HEALTH_PATH.lstrip("/")
    in_flight: set[asyncio.Task[None]] = set()
    # One connection per outstanding request: the per-camera bound is the real limit.
    connector = aiohttp.TCPConnector(limit=settings.cameras * settings.max_outstanding)
    async with (
        aiohttp.ClientSession(connector=connector, headers=headers) as session,
        # Health gets its own connection pool so it never waits behind recognitions.
        aiohttp.ClientSession(headers=headers) as health_session,
    ):
        started = loop.time()
        background = [
            asyncio.create_task(_poll_health(health_session, health_url, tally)),
            *(
                asyncio.create_task(
                    trickle(recognize_url, settings.slow_interval, tally.slow, api_key=api_key)
                )
                for _ in range(settings.slow_clients)
            ),
        ]
        if sample_rss is not None and memory is not None:
            background.append(asyncio.create_task(_sample_memory(sample_rss, memory)))
        try:
            camera = functools.partial(
                _camera,
                session=session,
                url=recognize_url,
                photos=photos,
                settings=settings,
                tally=tally,
                in_flight=in_flight,
                deadline=started + settings.seconds,
            )
            rate = settings.cameras * settings.fps
            await asyncio.gather(
                *(camera(i, start=started + i / rate) for i in range(settings.cameras))
            )
            await _settle(in_flight, settings.drain_timeout, tally)
            duration = loop.time() - started
        finally:
            for task in [*background, *in_flight]:
                task.cancel()
            await asyncio.gather(*background, *in_flight, return_exceptions=True)
    return LoadReport(target or Target(base_url), settings, len(photos), duration, tally, memory)


async def _settle(in_flight: set[asyncio.Task[None]], grace: float, tally: Tally) -> None:
    """Give the unanswered requests `grace` seconds after the last frame, then cancel them."""
    if not in_flight:
        return
    _, pending = await asyncio.wait(set(in_flight), timeout=grace)
    tally.unfinished = len(pending)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def _camera(
    index: int,
    *,
    session: aiohttp.ClientSession,
    url: URL,
    photos: Sequence[Photo],
    settings: LoadSettings,
    tally: Tally,
    in_flight: set[asyncio.Task[None]],
    start: float,
    deadline: float,
) -> None:
    """Send a frame every 1/fps seconds from `start` until `deadline`, without waiting.

    Cameras start staggered across one frame period, as real ones are not synchronised,
    and each walks the photos from its own offset.
    """
    loop = asyncio.get_running_loop()
    period = 1.0 / settings.fps
    client_timeout = aiohttp.ClientTimeout(total=settings.timeout)
    offset = index * len(photos) // settings.cameras
    mine: set[asyncio.Task[None]] = set()
    frame = 0
    while (due := start + frame * period) < deadline:
        if (delay := due - loop.time()) > 0:
            await asyncio.sleep(delay)
        tally.scheduled += 1
        if len(mine) >= settings.max_outstanding:
            tally.dropped += 1
        else:
            photo = photos[(offset + frame) % len(photos)]
            tally.sent += 1
            task = asyncio.create_task(_send(session, url, photo, client_timeout, tally))
            for tasks in (mine, in_flight):
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        frame += 1


async def _send(
    session: aiohttp.ClientSession,
    url: URL,
    photo: Photo,
    client_timeout: aiohttp.ClientTimeout,
    tally: Tally,
) -> None:
    """Send one frame and count how it went."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        async with session.post(
            url,
            data=photo.data,
            headers={"Content-Type": photo.content_type},
            timeout=client_timeout,
        ) as response:
            body = await response.read()
            if response.status == 200:
                tally.latencies.append(loop.time() - started)
            elif response.status == 503:
                tally.rejected += 1
            else:
                tally.errors[f"{response.status} {_error_code(body)}"] += 1
    except TimeoutError:
        tally.errors["timeout"] += 1
    except aiohttp.ClientConnectionError:
        tally.errors["connection"] += 1
    except aiohttp.ClientError as err:
        tally.errors[f"client: {type(err).__name__}"] += 1


def _error_code(body: bytes) -> str:
    """Return the contract's `error.code` of an error answer, or `unknown` if it has none."""
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return "unknown"
    return code if isinstance(code, str) else "unknown"


async def _poll_health(session: aiohttp.ClientSession, url: URL, tally: Tally) -> None:
    """GET health once a second (start to start) until cancelled; record how long it took."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
                await response.read()
                ok = response.status == 200
        except (TimeoutError, aiohttp.ClientError):
            ok = False
        if ok:
            tally.health_latencies.append(loop.time() - started)
        else:
            tally.health_failures += 1
        await asyncio.sleep(max(0.0, started + HEALTH_INTERVAL - loop.time()))


async def trickle(
    url: URL, interval: float, tally: SlowTally, *, api_key: str | None = None
) -> None:
    """Upload to `url` one body byte every `interval` seconds, forever (until cancelled).

    The body is declared as 10 MB of JPEG, so it never ends on its own; whenever the service
    answers (408 once its body deadline passes) or closes the connection, a new one starts
    `interval` seconds later.
    """
    assert url.host is not None  # noqa: S101 - a URL with a host is all this module builds
    head = (
        f"POST {url.raw_path_qs} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
        "Content-Type: image/jpeg\r\nContent-Length: 10000000\r\n"
        + (f"Authorization: Bearer {api_key}\r\n" if api_key else "")
        + "\r\n"
    ).encode()
    while True:
        try:
            reader, writer = await asyncio.open_connection(url.host, url.port)
        except OSError:
            tally.hung_up += 1
            await asyncio.sleep(interval)
            continue
        tally.connections += 1
        try:
            writer.write(head + b"\xff")
            while True:
                await writer.drain()
                try:
                    line = await asyncio.wait_for(reader.readline(), interval)
                except TimeoutError:
                    writer.write(b"\x00")
                    continue
                if match := re.match(rb"HTTP/1\.[01] (\d{3}) ", line):
                    tally.answers[int(match.group(1))] += 1
                else:
                    tally.hung_up += 1
                break
        except OSError:
            tally.hung_up += 1
        finally:
            writer.close()
        await asyncio.sleep(interval)  # as a client would: not again at once


async def _sample_memory(sample: Callable[[], int | None], memory: MemoryReport) -> None:
    while True:
        memory.observe(sample())
        await asyncio.sleep(RSS_INTERVAL)


def rss_probe(pid: int) -> tuple[str, Callable[[], int | None]] | None:
    """Return a way to read the resident memory of process `pid` in bytes, and its name.

    psutil when it is installed (any platform), else Linux's /proc; None when neither works.
    """
    try:
        psutil: Any = importlib.import_module("psutil")
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            process = psutil.Process(pid)
        except psutil.Error:
            return None

        def by_psutil() -> int | None:
            try:
                return int(process.memory_info().rss)
            except psutil.Error:
                return None

        return "psutil", by_psutil
    if read_proc_status(pid, "VmRSS") is not None:
        return "procfs", lambda: read_proc_status(pid, "VmRSS")
    return None


def read_proc_status(pid: int, key: str) -> int | None:
    """Read a memory line (`VmRSS`, `VmHWM`) of /proc/PID/status in bytes; None if absent."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    match = re.search(rf"^{key}:\s+(\d+) kB$", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None
