"""What a load run counts and measures, as the `--json` document and as text.

The document's keys are described in the `load` module's docstring.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
import math
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

    from yarl import URL

REPORT_VERSION: Final = 1


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
            "slow_clients": self._slow_clients(),
            "memory": self._memory(),
        }

    def _slow_clients(self) -> dict[str, Any] | None:
        if not self.settings.slow_clients:
            return None
        slow = self.tally.slow
        return {
            "connections": slow.connections,
            "answers": {str(k): v for k, v in sorted(slow.answers.items())},
            "hung_up": slow.hung_up,
        }

    def _memory(self) -> dict[str, Any] | None:
        if self.memory is None:
            return None
        return {
            "method": self.memory.method,
            "idle_rss_bytes": self.memory.idle_rss_bytes,
            "peak_rss_bytes": self.memory.peak_rss_bytes,
            "end_rss_bytes": self.memory.end_rss_bytes,
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
