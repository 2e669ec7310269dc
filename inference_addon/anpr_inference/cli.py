"""The `anpr-inference` command: serve the HTTP API, recognise files, fetch models.

`bench` and `load` come from the separate `anpr-inference-tools` distribution where it is
installed (the development environment); the add-on image does not carry them.

Settings come, lowest priority first, from the defaults, an add-on options file
(`--options /data/options.json`), `ANPR_<SETTING>` environment variables and the flags.
"""

from __future__ import annotations

import argparse
import functools
from importlib.metadata import EntryPoint, entry_points
import json
import logging
import math
import os
from pathlib import Path
import sys
from typing import TYPE_CHECKING, Any, Final

from . import __version__
from .config import FIELD_NAMES, ConfigError, ServiceConfig

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_LOGGER = logging.getLogger(__name__)

TOOLS_DISTRIBUTION: Final = "anpr-inference-tools"
TOOLS_GROUP: Final = "anpr_inference.commands"
"""Entry-point group of the commands that development tools add to `anpr-inference`."""
TOOL_COMMANDS: Final = ("bench", "load")
"""The tools' commands, offered (or explained) even where the tools are not installed."""

# Flags shared by every subcommand that loads models: (flag, setting, help).
_MODEL_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--model-dir", "model_dir", "folder for downloaded and user-provided models"),
    ("--data-dir", "data_dir", "folder for the service's state (instance id)"),
    ("--detector", "detector", "detector source: auto, hub, file or embedded"),
    ("--ocr", "ocr", "OCR source: auto, hub, file or embedded"),
    ("--detector-path", "detector_path", "YOLOv9 end2end plate detector ONNX file"),
    ("--ocr-path", "ocr_path", "fast-plate-ocr ONNX file"),
    ("--ocr-config-path", "ocr_config_path", "fast-plate-ocr plate config YAML"),
    ("--hub-detector-model", "hub_detector_model", "detector name on fast-alpr's hub"),
    ("--hub-ocr-model", "hub_ocr_model", "OCR model name on fast-plate-ocr's hub"),
    ("--model-base-url", "model_base_url", "mirror to download hub models from"),
    (
        "--bundled-model-dir",
        "bundled_model_dir",
        "read-only folder of pinned models (fetch-models --into), used without download",
    ),
    ("--threads", "threads_per_worker", "onnxruntime threads per worker (0: automatic)"),
    ("--log-level", "log_level", "debug, info, warning or error"),
)
_SERVE_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--host", "host", "address to bind (default 0.0.0.0)"),
    ("--port", "port", "TCP port (default 8756; 0 picks a free one)"),
    ("--api-key", "api_key", "require this bearer key (better: ANPR_API_KEY)"),
    ("--workers", "workers", "images recognised in parallel"),
    ("--max-queue", "max_queue", "requests that may wait for a worker before 503"),
    ("--max-body-bytes", "max_body_bytes", "largest accepted request body"),
    ("--max-pixels", "max_pixels", "largest accepted image (width x height)"),
    ("--max-decoded-pixels", "max_decoded_pixels", "most pixels one image is decoded to"),
    ("--body-timeout", "body_timeout", "seconds a client has to send a request body (30)"),
    ("--header-timeout", "header_timeout", "seconds a client has to send its headers (10)"),
    ("--default-region", "default_region", "region used when a request names none"),
    ("--min-confidence", "min_confidence", "default minimum plate confidence (0-1)"),
)


def positive_int(value: str) -> int:
    """Argument type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def positive_float(value: str) -> float:
    """Argument type: a finite number above 0 (a rate, a duration)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {value}")
    return number


def confidence(value: str) -> float:
    """Argument type: a confidence from 0 to 1."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"must be within 0-1, got {number}")
    return number


def _add_flags(parser: argparse.ArgumentParser, flags: Sequence[tuple[str, str, str]]) -> None:
    """Add setting flags; `build_config` picks up their `cfg_<setting>` values."""
    for flag, dest, text in flags:
        parser.add_argument(flag, dest=f"cfg_{dest}", help=text, default=None)


def _add_model_flags(parser: argparse.ArgumentParser) -> None:
    """Add what every command that loads models takes: the model flags and an options file."""
    _add_flags(parser, _MODEL_FLAGS)
    parser.add_argument("--options", type=Path, help="Home Assistant add-on options file (JSON)")
    parser.add_argument(
        "--no-download",
        dest="cfg_allow_download",
        action="store_const",
        const=False,
        default=None,
        help="never download models; use what is on disk or embedded",
    )


def build_config(args: argparse.Namespace, environ: dict[str, str] | None = None) -> ServiceConfig:
    """Defaults, then the options file, then ANPR_* variables, then flags."""
    env = os.environ if environ is None else environ
    options: Path | None = getattr(args, "options", None)
    config = ServiceConfig.from_options_file(options) if options else ServiceConfig()
    from_env = {
        name: env[f"ANPR_{name.upper()}"] for name in FIELD_NAMES if f"ANPR_{name.upper()}" in env
    }
    from_flags = {
        key[4:]: value
        for key, value in vars(args).items()
        if key.startswith("cfg_") and value is not None
    }
    return config.with_values(from_env).with_values(from_flags)


def _setup_logging(level: str) -> None:
    """Log to stderr, every line with its secrets redacted (see `redact`)."""
    from .redact import RedactingFormatter  # noqa: PLC0415

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])


def _serve(args: argparse.Namespace, config: ServiceConfig) -> int:
    from .engine import create_engine  # noqa: PLC0415
    from .server import run  # noqa: PLC0415

    engine = create_engine(config)
    engine.warm_up()
    announce = None
    token = os.environ.get("SUPERVISOR_TOKEN")
    if token and not args.no_announce:
        announce = _supervisor_announcer(config, token)
    run(config, engine, announce=announce)
    return 0


def _supervisor_announcer(config: ServiceConfig, token: str) -> Callable[[int], Any]:
    """Announce host, port and key to the Supervisor once listening (add-on only)."""

    async def announce(port: int) -> None:
        import aiohttp  # noqa: PLC0415

        from .discovery import announce_to_supervisor  # noqa: PLC0415

        async with aiohttp.ClientSession() as session:
            await announce_to_supervisor(session, port=port, api_key=config.api_key, token=token)

    return announce


def _recognize(args: argparse.Namespace, config: ServiceConfig) -> int:
    from .engine import create_engine  # noqa: PLC0415
    from .imaging import ImageError, decode_for_recognition  # noqa: PLC0415

    engine = create_engine(config)
    region = args.region or config.default_region
    min_conf = config.min_confidence if args.min_confidence is None else args.min_confidence
    documents: list[dict[str, Any]] = []
    failed = False
    for path in args.images:
        try:
            decoded = decode_for_recognition(
                Path(path).read_bytes(),
                max_pixels=config.max_pixels,
                max_decoded_pixels=config.max_decoded_pixels,
            )
        except (OSError, ImageError) as err:
            print(f"{path}: error: {err}", file=sys.stderr)
            documents.append({"file": str(path), "error": str(err)})
            failed = True
            continue
        result = decoded.restore(
            engine.recognize(decoded.pixels, region=region, min_confidence=min_conf)
        )
        documents.append({"file": str(path), **result.as_dict()})
        if not args.json:
            plates = (
                ", ".join(f"{p.normalized} ({p.confidence:.0%})" for p in result.plates)
                or "no plate"
            )
            print(f"{path}: {plates}")
    if args.json:
        print(json.dumps(documents if len(documents) != 1 else documents[0], indent=2))
    return 1 if failed else 0


def _fetch_models(args: argparse.Namespace, config: ServiceConfig) -> int:
    from .models import fetch_pinned_models  # noqa: PLC0415

    into = args.into if args.into is not None else config.model_dir.expanduser() / "hub"
    for path in fetch_pinned_models(config, into):
        print(path)
    return 0


def _fuse_detector(_args: argparse.Namespace, _config: ServiceConfig) -> int:
    from .fusion import FusionError, store_fused  # noqa: PLC0415
    from .models import EMBEDDED_DETECTOR_FILE, embedded_model_dir  # noqa: PLC0415

    try:
        print(store_fused(embedded_model_dir() / EMBEDDED_DETECTOR_FILE))
    except (FusionError, OSError) as err:
        print(f"error: cannot store the fused detector: {err}", file=sys.stderr)
        return 1
    return 0


def make_parser() -> argparse.ArgumentParser:
    """Build the command line, with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="anpr-inference", description="Licence-plate recognition over HTTP."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service")
    _add_model_flags(serve)
    _add_flags(serve, _SERVE_FLAGS)
    serve.add_argument(
        "--no-announce",
        action="store_true",
        help="don't announce the service to the Home Assistant Supervisor",
    )
    serve.set_defaults(func=_serve)

    recognize = sub.add_parser("recognize", help="read the plates in image files")
    _add_model_flags(recognize)
    recognize.add_argument("images", nargs="+", help="JPEG, PNG or WebP files")
    recognize.add_argument("--region", help="plate region hint: br, eu, in, nz, uk, us")
    recognize.add_argument("--min-confidence", type=confidence, default=None)
    recognize.add_argument("--json", action="store_true", help="print JSON")
    recognize.set_defaults(func=_recognize)

    fetch = sub.add_parser(
        "fetch-models",
        help="download the pinned OCR models ahead of time (e.g. when building an image)",
        description=(
            "Download the OCR models named by hub_ocr_model, each checked against the SHA-256 "
            "pinned in the code, so the service later starts with no network."
        ),
    )
    _add_model_flags(fetch)
    fetch.add_argument(
        "--into",
        type=Path,
        help="folder to store them in (default: the model folder's hub/); point "
        "bundled_model_dir at it",
    )
    fetch.set_defaults(func=_fetch_models)

    fuse = sub.add_parser(
        "fuse-detector",
        help="rewrite the embedded text detector once, beside it (e.g. when building an image)",
        description=(
            "Store the embedded PP-OCRv4 detector's exact graph rewrite beside the model, so "
            "the service loads it instead of rewriting the detector at every start."
        ),
    )
    fuse.set_defaults(func=_fuse_detector)

    _add_tool_commands(sub)
    return parser


def _tool_entry_points() -> dict[str, EntryPoint]:
    """Return the commands that installed development tools register, by name."""
    return {point.name: point for point in entry_points(group=TOOLS_GROUP)}


def _add_tool_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Offer the development tools' commands where they are installed, else say how to.

    They live in the `anpr-inference-tools` distribution, which the add-on image does not
    install; each registers a function that adds its subparser (see its pyproject.toml).
    """
    found = _tool_entry_points()
    for name in [*TOOL_COMMANDS, *sorted(set(found) - set(TOOL_COMMANDS))]:
        problem = "which is not installed here"
        if name in found:
            try:
                add_parser: Callable[..., argparse.ArgumentParser] = found[name].load()
            except ImportError as err:
                problem = f"which cannot be loaded ({err})"
            else:
                _add_model_flags(add_parser(sub))
                continue
        # Takes any arguments (no character starts an option), so that it always answers
        # with how to install the tools rather than with a usage error.
        stub = sub.add_parser(
            name,
            help=f"(not installed: needs {TOOLS_DISTRIBUTION})",
            add_help=False,
            prefix_chars="\0",
        )
        stub.add_argument("arguments", nargs="*", help=argparse.SUPPRESS)
        stub.set_defaults(func=functools.partial(_tool_missing, name, problem))


def _tool_missing(
    name: str, problem: str, _args: argparse.Namespace, _config: ServiceConfig
) -> int:
    print(
        f"error: '{name}' is a development tool of {TOOLS_DISTRIBUTION}, {problem}; "
        "install it with 'pip install ./inference_tools' from the anpr repository "
        "(script/setup does)",
        file=sys.stderr,
    )
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `anpr-inference` console script."""
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        config = build_config(args)
    except ConfigError as err:
        parser.error(str(err))
    _setup_logging(config.log_level)
    from .models import ModelUnavailableError  # noqa: PLC0415

    try:
        result: int = args.func(args, config)
    except ModelUnavailableError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
