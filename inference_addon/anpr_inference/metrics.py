"""Prometheus metrics of one service instance.

Every application gets its own `CollectorRegistry` rather than the process-wide default one,
so several apps in one process (the test suite starts dozens) never collide over metric
names, and `/metrics` shows exactly this service's series.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from .results import ModelInfo, Timings

CONTENT_TYPE: Final = CONTENT_TYPE_PLAIN_0_0_4
"""Media type of the exposition (the classic text format every scraper understands)."""

# Request latencies: health checks take microseconds, a recognition on a slow CPU seconds.
_REQUEST_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_STAGE_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
STAGES: Final = ("decode", "detect", "ocr", "total")


class Metrics:
    """The service's metrics and the few ways the HTTP layer updates them."""

    def __init__(
        self,
        *,
        models: Mapping[str, ModelInfo],
        version: str,
        in_flight: Callable[[], float],
        queued: Callable[[], float],
        degraded: Callable[[], float],
    ) -> None:
        """Create every series in a fresh registry.

        `in_flight`, `queued` and `degraded` are read at scrape time, so the gauges can
        never drift from the admission counter they report.
        """
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "anpr_http_requests",
            "HTTP requests answered, by endpoint and status.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "anpr_http_errors",
            "Error answers, by error code.",
            ["code"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "anpr_http_request_duration_seconds",
            "Time from receiving a request to answering it, by endpoint.",
            ["endpoint"],
            buckets=_REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "anpr_recognition_stage_duration_seconds",
            "Time one recognition spent in each stage (total = decode + detect + ocr + rest).",
            ["stage"],
            buckets=_STAGE_BUCKETS,
            registry=self.registry,
        )
        self.plates = Counter(
            "anpr_plates_found",
            "Plates found in recognised images.",
            registry=self.registry,
        )
        self.images = Counter(
            "anpr_images_recognized",
            "Images recognised successfully.",
            registry=self.registry,
        )
        self._add_load_gauges(in_flight, queued, degraded)
        self._add_info_gauges(models, version)
        # Pre-create the label sets dashboards plot, so they exist (at 0) from the start.
        for stage in STAGES:
            self.stage_seconds.labels(stage=stage)

    def _add_load_gauges(
        self,
        in_flight: Callable[[], float],
        queued: Callable[[], float],
        degraded: Callable[[], float],
    ) -> None:
        """Add the gauges of the admission counter, read from it at scrape time."""
        in_flight_gauge = Gauge(
            "anpr_requests_in_flight",
            "Recognition requests admitted and not yet answered (running + queued).",
            registry=self.registry,
        )
        in_flight_gauge.set_function(in_flight)
        queue_gauge = Gauge(
            "anpr_queue_depth",
            "Admitted recognition requests not running on a worker yet.",
            registry=self.registry,
        )
        queue_gauge.set_function(queued)
        degraded_gauge = Gauge(
            "anpr_degraded",
            "1 while every admission slot is taken (new recognitions get 503 and health "
            "says degraded), else 0.",
            registry=self.registry,
        )
        degraded_gauge.set_function(degraded)

    def _add_info_gauges(self, models: Mapping[str, ModelInfo], version: str) -> None:
        """Add the constant gauges whose labels name the models and the version."""
        model_info = Gauge(
            "anpr_model_info",
            "The models in use (always 1); labels name them.",
            ["stage", "name", "source"],
            registry=self.registry,
        )
        for stage, model in models.items():
            model_info.labels(stage=stage, name=model.name, source=model.source).set(1)
        build_info = Gauge(
            "anpr_build_info",
            "Version of the service (always 1).",
            ["version"],
            registry=self.registry,
        )
        build_info.labels(version=version).set(1)

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(endpoint=endpoint, method=method, status=str(status)).inc()
        self.request_seconds.labels(endpoint=endpoint).observe(seconds)

    def observe_error(self, code: str) -> None:
        """Count one error answer by its API error code."""
        self.errors.labels(code=code).inc()

    def observe_recognition(self, timings: Timings, plates: int) -> None:
        """Record the stage timings (milliseconds) and plate count of one recognition."""
        self.images.inc()
        self.plates.inc(plates)
        for stage in STAGES:
            self.stage_seconds.labels(stage=stage).observe(getattr(timings, stage) / 1000.0)

    def render(self) -> bytes:
        """Return the exposition text of every series."""
        return generate_latest(self.registry)
