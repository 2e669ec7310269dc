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
import json
from pathlib import Path
import sys
from typing import TYPE_CHECKING, Final

from yarl import URL

from anpr_inference.cli import _SERVE_FLAGS, _add_flags, positive_float, positive_int

from .loaddrive import LoadError, load_photos
from .loadreport import LoadSettings, report_text
from .loadservice import is_loopback, run_load

if TYPE_CHECKING:
    from anpr_inference.config import ServiceConfig

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
    _add_limits(parser)
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


def _add_limits(parser: argparse.ArgumentParser) -> None:
    """Add the bounds of a run: outstanding requests, timeouts, images, slow uploaders."""
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
