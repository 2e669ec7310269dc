"""The `anpr-inference load` command: drive the service like many cameras at once.

Each camera is an async task that sends a photo from a folder to `POST /v1/recognize` at a
fixed rate. The load is open-loop, like real cameras: a frame is sent when it is due, whether
or not the previous answer has come back, so a slow service sees its queue grow (and has to
shed load with 503) instead of the client politely slowing down and hiding the problem. To
keep the client itself bounded, a camera with `--max-outstanding` requests still unanswered
drops its next frame (counted as `dropped`) instead of stacking up connections.

Meanwhile `/v1/health` is polled once a second on a connection of its own, because Home
Assistant shows the service as unavailable when health stops answering: the worst health
latency under overload is the number that says whether the service stays usable.

Without `--url` the command starts the service itself (`anpr-inference serve` in a
subprocess, on a free port of a loopback address only, with the model and service flags
given here), reads its `listening` line, samples its resident memory while loaded and stops
it with SIGTERM at the end. With `--url` it drives a running service (a warning is printed
when that is not on this machine; memory is then not measured).

The run is bounded: frames are sent for `--seconds`, then unanswered requests get at most
`--drain-timeout` seconds before they are cancelled (counted as `unfinished`).

`--slow-clients N` adds N hostile uploaders for the whole run: each sends the headers of a
recognition and then its body one byte every `--slow-interval` seconds, and connects again
whenever the service answers or hangs up. The cameras' latency then says what a slow client
costs everyone else (nothing, when the service receives bodies before admitting them).

`--json` prints one document with stable keys:

    {"version": 1,
     "target": {"url", "started", "pid", "exit_code"},
     "settings": {"cameras", "fps", "seconds", "max_outstanding", "timeout",
                  "drain_timeout", "images", "slow_clients", "slow_interval"},
     "duration_s", "offered_per_second", "throughput_per_second",
     "requests": {"scheduled", "sent", "answered", "rejected", "failed", "dropped",
                  "unfinished"},
     "latency_ms": {"p50", "p95", "p99", "max", "mean"},
     "errors": {KIND: COUNT},
     "health": {"polls", "failures", "worst_ms", "p50_ms"},
     "slow_clients": {"connections", "answers": {STATUS: COUNT}, "hung_up"} | null,
     "memory": {"method", "idle_rss_bytes", "peak_rss_bytes", "end_rss_bytes"} | null}

`answered` counts 200 answers (`throughput_per_second` is answered over `duration_s`, the
time from the first frame until every request settled), `rejected` 503 answers, `failed`
everything else (its kinds in `errors`: `"<status> <error code>"` for HTTP answers,
`timeout`, `connection` or `client: <exception>`). Latencies are of answered requests only,
from sending the request until the whole answer was read; a field is null when nothing was
measured. `scheduled` = `sent` + `dropped`; `sent` = `answered` + `rejected` + `failed` +
`unfinished`. `slow_clients` counts the slow uploaders' connections, the answers they got by
status (408 when the service's body deadline ends one) and the connections the service closed
without an answer; `peak_rss_bytes` includes the kernel's high-water mark (VmHWM) at the end.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter, deque
import contextlib
from dataclasses import dataclass, field, fields
import importlib
import ipaddress
import json
import math
import os
from pathlib import Path
import re
import signal
import sys
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from yarl import URL

from .cli import _SERVE_FLAGS, _add_flags, positive_float, positive_int
from .config import ServiceConfig
from .server import HEALTH_PATH, RECOGNIZE_PATH, SHUTDOWN_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

REPORT_VERSION: Final = 1
MEDIA_TYPES: Final = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}
"""Files the command sends, by suffix, with the media type they are sent as."""

HEALTH_INTERVAL: Final = 1.0
RSS_INTERVAL: Final = 0.25
LISTENING: Final = re.compile(r"^anpr-inference listening on (https?://\S+)$")
_SERVICE_ONLY_SETTINGS: Final = (
    "workers",
    "max_queue",
    "max_body_bytes",
    "max_pixels",
    "max_decoded_pixels",
    "body_timeout",
    "header_timeout",
    "default_region",
    "min_confidence",
)
"""`serve` settings this command takes for the service it starts (ignored with `--url`)."""
_SERVICE_SETTINGS: Final = ("api_key", *_SERVICE_ONLY_SETTINGS)
"""The `serve` flags this command takes; the API key is also what the cameras send."""
_API_KEY_HELP: Final = (
    "bearer key the cameras send, and that a service started here requires (better: ANPR_API_KEY)"
)
_STDERR_TAIL: Final = 40


class LoadError(Exception):
    """The load cannot run: no images, a bad target, a service that does not start."""


@dataclass(frozen=True, slots=True)
class Photo:
    """One image the cameras send."""

    name: str
    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class LoadSettings:
    """How hard and how long to drive the service."""

    cameras: int
    fps: float
    seconds: float
    max_outstanding: int = 4
    timeout: float = 30.0
    drain_timeout: float = 30.0
    slow_clients: int = 0
    slow_interval: float = 1.0


@dataclass(slots=True)
class SlowTally:
    """What the slow uploaders saw."""

    connections: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    hung_up: int = 0


@dataclass(slots=True)
class Tally:
    """Everything counted while the load runs (one event loop, so no locking)."""

    scheduled: int = 0
    sent: int = 0
    rejected: int = 0
    dropped: int = 0
    unfinished: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    health_latencies: list[float] = field(default_factory=list)
    health_failures: int = 0
    slow: SlowTally = field(default_factory=SlowTally)


@dataclass(slots=True)
class MemoryReport:
    """Resident memory of the service process, in bytes."""

    method: str
    idle_rss_bytes: int | None = None
    peak_rss_bytes: int | None = None
    end_rss_bytes: int | None = None

    def observe(self, rss: int | None) -> None:
        """Record one sample: the latest is the end value, the largest the peak."""
        if rss is None:
            return
        self.end_rss_bytes = rss
        if self.peak_rss_bytes is None or rss > self.peak_rss_bytes:
            self.peak_rss_bytes = rss


@dataclass(slots=True)
class Target:
    """The service under load and, when this command started it, its process."""

    url: URL
    started: bool = False
    pid: int | None = None
    exit_code: int | None = None


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What one run measured."""

    target: Target
    settings: LoadSettings
    images: int
    duration_s: float
    tally: Tally
    memory: MemoryReport | None

    @property
    def answered(self) -> int:
        """Requests answered with 200."""
        return len(self.tally.latencies)

    @property
    def failed(self) -> int:
        """Requests that got neither 200 nor 503."""
        return sum(self.tally.errors.values())

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON document described in the module docstring."""
        tally = self.tally
        return {
            "version": REPORT_VERSION,
            "target": {
                "url": str(self.target.url),
                "started": self.target.started,
                "pid": self.target.pid,
                "exit_code": self.target.exit_code,
            },
            "settings": {
                "cameras": self.settings.cameras,
                "fps": self.settings.fps,
                "seconds": self.settings.seconds,
                "max_outstanding": self.settings.max_outstanding,
                "timeout": self.settings.timeout,
                "drain_timeout": self.settings.drain_timeout,
                "images": self.images,
                "slow_clients": self.settings.slow_clients,
                "slow_interval": self.settings.slow_interval,
            },
            "duration_s": round(self.duration_s, 3),
            "offered_per_second": round(self.settings.cameras * self.settings.fps, 3),
            "throughput_per_second": (
                round(self.answered / self.duration_s, 3) if self.duration_s > 0 else None
            ),
            "requests": {
                "scheduled": tally.scheduled,
                "sent": tally.sent,
                "answered": self.answered,
                "rejected": tally.rejected,
                "failed": self.failed,
                "dropped": tally.dropped,
                "unfinished": tally.unfinished,
            },
            "latency_ms": _latency_summary(tally.latencies),
            "errors": dict(sorted(tally.errors.items())),
            "health": {
                "polls": len(tally.health_latencies) + tally.health_failures,
                "failures": tally.health_failures,
                "worst_ms": _ms(max(tally.health_latencies, default=None)),
                "p50_ms": _latency_summary(tally.health_latencies)["p50"],
            },
            "slow_clients": (
                {
                    "connections": tally.slow.connections,
                    "answers": {str(k): v for k, v in sorted(tally.slow.answers.items())},
                    "hung_up": tally.slow.hung_up,
                }
                if self.settings.slow_clients
                else None
            ),
            "memory": (
                None
                if self.memory is None
                else {
                    "method": self.memory.method,
                    "idle_rss_bytes": self.memory.idle_rss_bytes,
                    "peak_rss_bytes": self.memory.peak_rss_bytes,
                    "end_rss_bytes": self.memory.end_rss_bytes,
                }
            ),
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 1)


def _latency_summary(latencies: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99 (nearest rank), max and mean in milliseconds; nulls when empty."""
    if not latencies:
        return dict.fromkeys(("p50", "p95", "p99", "max", "mean"))
    ordered = sorted(latencies)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100.0 * len(ordered)) - 1)]

    return {
        "p50": _ms(rank(50)),
        "p95": _ms(rank(95)),
        "p99": _ms(rank(99)),
        "max": _ms(ordered[-1]),
        "mean": _ms(sum(ordered) / len(ordered)),
    }


# --- images --------------------------------------------------------------------------------


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


# --- driving the service -------------------------------------------------------------------


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
    """Run the cameras against `base_url` and return what was measured.

    `sample_rss` (with `memory`) is called every `RSS_INTERVAL` seconds during the run.
    """
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
        deadline = started + settings.seconds
        background = [asyncio.create_task(_poll_health(health_session, health_url, tally))]
        background += [
            asyncio.create_task(
                trickle(recognize_url, settings.slow_interval, tally.slow, api_key=api_key)
            )
            for _ in range(settings.slow_clients)
        ]
        if sample_rss is not None and memory is not None:
            background.append(asyncio.create_task(_sample_memory(sample_rss, memory)))
        try:
            cameras = [
                asyncio.create_task(
                    _camera(
                        index,
                        session=session,
                        url=recognize_url,
                        photos=photos,
                        settings=settings,
                        tally=tally,
                        in_flight=in_flight,
                        start=started + index / (settings.cameras * settings.fps),
                        deadline=deadline,
                    )
                )
                for index in range(settings.cameras)
            ]
            await asyncio.gather(*cameras)
            if in_flight:
                _, pending = await asyncio.wait(set(in_flight), timeout=settings.drain_timeout)
                tally.unfinished = len(pending)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            duration = loop.time() - started
        finally:
            for task in [*background, *in_flight]:
                task.cancel()
            await asyncio.gather(*background, *in_flight, return_exceptions=True)
    return LoadReport(
        target=target or Target(base_url),
        settings=settings,
        images=len(photos),
        duration_s=duration,
        tally=tally,
        memory=memory,
    )


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


# --- memory of the service process ---------------------------------------------------------


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


# --- the service process -------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (a loopback address or `localhost`)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def service_environment(config: ServiceConfig, environ: dict[str, str]) -> dict[str, str]:
    """Return the started service's environment, with its settings as `ANPR_*` variables.

    Passing the already merged settings (defaults, options file, environment, flags) this
    way keeps the API key off the command line, where every local user could read it; the
    caller's own `ANPR_*` variables are dropped so they cannot contradict them.
    """
    env = {k: v for k, v in environ.items() if not k.startswith("ANPR_")}
    defaults = ServiceConfig()
    for setting in fields(ServiceConfig):
        if setting.name in ("host", "port"):
            continue
        value = getattr(config, setting.name)
        if value is None or value == getattr(defaults, setting.name):
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        env[f"ANPR_{setting.name.upper()}"] = text
    return env


@dataclass(slots=True)
class _Service:
    """A service process this command started, and the tasks reading its output."""

    process: asyncio.subprocess.Process
    stderr_tail: deque[str]
    readers: list[asyncio.Task[None]]


async def start_service(
    config: ServiceConfig, *, startup_timeout: float, log_lines: int = _STDERR_TAIL
) -> tuple[_Service, URL]:
    """Start `anpr-inference serve` on a free loopback port; return it once it listens.

    The last `log_lines` lines of its log are kept (`_Service.stderr_tail`).
    """
    host = config.host if is_loopback(config.host) else "127.0.0.1"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "anpr_inference",
        "serve",
        "--host",
        host,
        "--port",
        "0",
        "--no-announce",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=service_environment(config, dict(os.environ)),
    )
    if process.stdout is None or process.stderr is None:  # pragma: no cover - PIPE was asked
        raise LoadError("cannot read the service's output")
    tail: deque[str] = deque(maxlen=log_lines)
    # The service logs every request to stderr: it is drained all the time (a full pipe
    # would block the service) and only its tail is kept, to explain a failed start.
    service = _Service(process, tail, [asyncio.create_task(_drain(process.stderr, tail))])
    failure: str | None = None
    try:
        url = await asyncio.wait_for(_listening_url(process.stdout), startup_timeout)
    except TimeoutError:
        failure = f"did not start within {startup_timeout:g} s"
    except LoadError as err:
        failure = str(err)
    except BaseException:  # cancelled (Ctrl-C): never leave the service behind
        await stop_service(service)
        raise
    else:
        if url.host is None or not is_loopback(url.host):
            failure = f"listens on {url}, not on a loopback address"
    if failure is not None:
        await stop_service(service)
        log = "\n".join(tail)
        raise LoadError(f"the service {failure}" + (f"; its log ends with:\n{log}" if log else ""))
    # Nothing else is expected on stdout, but it is drained too, for the same reason.
    service.readers.append(asyncio.create_task(_drain(process.stdout, deque(maxlen=1))))
    return service, url


async def _listening_url(stdout: asyncio.StreamReader) -> URL:
    while line := await stdout.readline():
        if match := LISTENING.match(line.decode(errors="replace").strip()):
            return URL(match.group(1))
    raise LoadError("exited before listening")


async def _drain(stream: asyncio.StreamReader, tail: deque[str]) -> None:
    while line := await stream.readline():
        tail.append(line.decode(errors="replace").rstrip())


async def stop_service(service: _Service) -> int:
    """SIGTERM the service, give it time for a graceful shutdown, kill it if it hangs."""
    process = service.process
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), SHUTDOWN_TIMEOUT + 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    await asyncio.gather(*service.readers, return_exceptions=True)
    return process.returncode if process.returncode is not None else -1


async def run_load(
    config: ServiceConfig,
    photos: Sequence[Photo],
    settings: LoadSettings,
    *,
    url: URL | None,
    startup_timeout: float,
) -> LoadReport:
    """Start the service unless `url` is given, drive it, stop it; return the report."""
    if url is not None:
        return await drive(url, photos, settings, api_key=config.api_key)
    service, service_url = await start_service(config, startup_timeout=startup_timeout)
    pid = service.process.pid
    target = Target(service_url, started=True, pid=pid)
    try:
        probe = rss_probe(pid)
        memory = MemoryReport(method=probe[0]) if probe is not None else None
        if probe is not None and memory is not None:
            memory.idle_rss_bytes = probe[1]()
            memory.observe(memory.idle_rss_bytes)
        report = await drive(
            service_url,
            photos,
            settings,
            api_key=config.api_key,
            sample_rss=None if probe is None else probe[1],
            memory=memory,
            target=target,
        )
        if memory is not None:
            # The kernel's high-water mark catches peaks between two samples.
            memory.observe(read_proc_status(pid, "VmHWM"))
            if probe is not None:
                memory.end_rss_bytes = probe[1]()
    finally:
        target.exit_code = await stop_service(service)
    return report


# --- command line --------------------------------------------------------------------------


def _url(value: str) -> URL:
    try:
        url = URL(value)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"not a URL: {value!r}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise argparse.ArgumentTypeError(f"expected http://HOST:PORT, got {value!r}")
    if url.query_string or url.fragment:
        raise argparse.ArgumentTypeError(f"the URL must not have a query or fragment: {value!r}")
    return url


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register `load` (the CLI adds the model flags to the returned parser)."""
    parser = subparsers.add_parser(
        "load",
        help="drive the service like many cameras at once and report how it copes",
        description=(
            "Send the photos of DIR to POST /v1/recognize from many simulated cameras at a "
            "fixed frame rate (open-loop), poll /v1/health meanwhile, and report throughput, "
            "latency, errors, 503 rejections and the service's peak memory. Without --url the "
            "service is started on a loopback address with the model and service flags given."
        ),
    )
    parser.add_argument("folder", type=Path, metavar="DIR", help="JPEG, PNG or WebP photos")
    parser.add_argument("--cameras", type=positive_int, default=16, help="cameras (16)")
    parser.add_argument("--fps", type=positive_float, default=2.0, help="frames/s each (2)")
    parser.add_argument(
        "--seconds", type=positive_float, default=60.0, help="how long frames are sent (60)"
    )
    parser.add_argument(
        "--url",
        type=_url,
        help="drive this running service instead of starting one (e.g. http://127.0.0.1:8756)",
    )
    parser.add_argument(
        "--max-outstanding",
        type=positive_int,
        default=4,
        metavar="N",
        help="a camera with N unanswered requests drops its next frame (4)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=30.0, help="seconds per request (30)"
    )
    parser.add_argument(
        "--drain-timeout",
        type=positive_float,
        default=30.0,
        help="seconds unanswered requests get after the last frame (30)",
    )
    parser.add_argument(
        "--startup-timeout",
        type=positive_float,
        default=300.0,
        help="seconds the started service gets to load its models (300)",
    )
    parser.add_argument(
        "--max-images",
        type=positive_int,
        default=200,
        metavar="N",
        help="send at most N photos of DIR (200)",
    )
    parser.add_argument(
        "--slow-clients",
        type=int,
        default=0,
        metavar="N",
        help="also run N uploaders that trickle their bodies all along (0)",
    )
    parser.add_argument(
        "--slow-interval",
        type=positive_float,
        default=1.0,
        metavar="S",
        help="seconds between two bytes of a slow uploader (1)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    _add_flags(
        parser,
        [
            (flag, name, _API_KEY_HELP if name == "api_key" else text)
            for flag, name, text in _SERVE_FLAGS
            if name in _SERVICE_SETTINGS
        ],
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace, config: ServiceConfig) -> int:
    """Entry point of `anpr-inference load`.

    Returns 0 when some requests were answered, 1 when none was (or the service did not
    start), 2 for unusable input.
    """
    url: URL | None = args.url
    if url is not None:
        assert url.host is not None  # noqa: S101 - checked by _url
        if not is_loopback(url.host):
            print(
                f"warning: {url.host} is not a loopback address; only load a service that is "
                "yours, at a time when slowing it down is harmless",
                file=sys.stderr,
            )
        ignored = [
            flag
            for flag, name, _ in _SERVE_FLAGS
            if name in _SERVICE_ONLY_SETTINGS and getattr(args, f"cfg_{name}", None) is not None
        ]
        if ignored:
            print(
                f"warning: {', '.join(ignored)} only apply to a service this command starts; "
                "ignored with --url",
                file=sys.stderr,
            )
    try:
        photos = load_photos(args.folder, args.max_images)
    except LoadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    settings = LoadSettings(
        cameras=args.cameras,
        fps=args.fps,
        seconds=args.seconds,
        max_outstanding=args.max_outstanding,
        timeout=args.timeout,
        drain_timeout=args.drain_timeout,
        slow_clients=max(0, args.slow_clients),
        slow_interval=args.slow_interval,
    )
    try:
        report = asyncio.run(
            run_load(config, photos, settings, url=url, startup_timeout=args.startup_timeout)
        )
    except LoadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report_text(report))
    if report.target.exit_code not in (None, 0):
        print(
            f"warning: the service exited with status {report.target.exit_code}",
            file=sys.stderr,
        )
    return 0 if report.answered else 1


def report_text(report: LoadReport) -> str:
    """Format the report for people."""
    doc = report.as_dict()
    s, req, lat, health = doc["settings"], doc["requests"], doc["latency_ms"], doc["health"]
    target = doc["target"]
    started = f" (started by this command, pid {target['pid']})" if target["started"] else ""
    lines = [
        (
            f"anpr-inference load: {s['cameras']} camera(s) x {s['fps']:g} fps for "
            f"{s['seconds']:g} s ({doc['offered_per_second']:g} frames/s offered), "
            f"{s['images']} image(s)"
        ),
        f"target: {target['url']}{started}",
        f"frames: {req['scheduled']} scheduled, {req['sent']} sent, {req['dropped']} dropped"
        + (
            f" (their camera had {s['max_outstanding']} requests unanswered)"
            if req["dropped"]
            else ""
        ),
        (
            f"answers: {req['answered']} ok ({_num(doc['throughput_per_second'])}/s over "
            f"{doc['duration_s']:g} s), {req['rejected']} rejected (503), "
            f"{req['failed']} failed, {req['unfinished']} unfinished"
        ),
        (
            f"latency of ok answers: p50 {_num(lat['p50'])} ms, p95 {_num(lat['p95'])} ms, "
            f"p99 {_num(lat['p99'])} ms, max {_num(lat['max'])} ms"
        ),
    ]
    if doc["errors"]:
        lines.append(
            "errors: " + ", ".join(f"{count} x {kind}" for kind, count in doc["errors"].items())
        )
    lines.append(
        f"health: {health['polls']} poll(s), worst {_num(health['worst_ms'])} ms, "
        f"p50 {_num(health['p50_ms'])} ms, {health['failures']} failure(s)"
    )
    slow = doc["slow_clients"]
    if slow is not None:
        answers = ", ".join(f"{n} x {status}" for status, n in slow["answers"].items()) or "none"
        lines.append(
            f"slow clients: {s['slow_clients']} trickling 1 byte every {s['slow_interval']:g} s; "
            f"{slow['connections']} connection(s), answers: {answers}, "
            f"{slow['hung_up']} closed without an answer"
        )
    memory = doc["memory"]
    if memory is not None:
        lines.append(
            f"service memory ({memory['method']}): peak RSS {_mib(memory['peak_rss_bytes'])}, "
            f"idle {_mib(memory['idle_rss_bytes'])}, at the end {_mib(memory['end_rss_bytes'])}"
        )
    elif target["started"]:
        lines.append("service memory: not measurable here (no psutil, no /proc)")
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f} MiB"
