"""The service process a load run starts itself: started on loopback, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
from dataclasses import dataclass, fields
import ipaddress
import os
import re
import signal
import sys
from typing import TYPE_CHECKING, Final

from yarl import URL

from anpr_inference.config import ServiceConfig
from anpr_inference.server import SHUTDOWN_TIMEOUT

from .loaddrive import LoadError, Photo, drive, read_proc_status, rss_probe
from .loadreport import LoadReport, LoadSettings, MemoryReport, Target

if TYPE_CHECKING:
    from collections.abc import Sequence

LISTENING: Final = re.compile(r"^anpr-inference listening on (https?://\S+)$")
_STDERR_TAIL: Final = 40


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
