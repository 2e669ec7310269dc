"""The benchmark's reports: the `--json` document and the table for people."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .benchrun import BenchSettings, FolderRun, overall

if TYPE_CHECKING:
    from collections.abc import Sequence

    from anpr_inference.engine import Recognizer

JSON_VERSION: Final = 1


TOP_CONFUSIONS: Final = 10


def report_json(
    runs: Sequence[FolderRun], engine: Recognizer, settings: BenchSettings
) -> dict[str, Any]:
    """Build the `--json` document (see the module docstring)."""
    return {
        "version": JSON_VERSION,
        "models": {key: info.as_dict() for key, info in engine.models.items()},
        "settings": {
            "region": settings.region,
            "min_confidence": settings.min_confidence,
            "limit": settings.limit,
            "workers": settings.workers,
            "threads_per_worker": settings.threads_per_worker,
            "iou_threshold": settings.iou_threshold,
            "max_pixels": settings.max_pixels,
        },
        "folders": [
            {
                "name": r.dataset.name,
                "path": str(r.dataset.path),
                "region": r.region,
                **r.summary().as_dict(),
            }
            for r in runs
        ],
        "overall": overall(runs).as_dict(),
        "errors": [{"image": str(path), "error": err} for r in runs for path, err in r.errors],
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report_table(runs: Sequence[FolderRun], engine: Recognizer, settings: BenchSettings) -> str:
    """Format the report: one row per folder, then overall, confusions and models."""
    lines = _table(runs, settings)
    total = overall(runs)
    confusions = ", ".join(f"{e}→{r}: {n}" for e, r, n in total.confusions[:TOP_CONFUSIONS])
    lines.append("")
    lines.append(f"Top confusions (expected→read): {confusions or 'none'}")
    models = ", ".join(
        f"{key} {info.name} ({info.source})" for key, info in sorted(engine.models.items())
    )
    lines.append(f"Models: {models}")
    threads = settings.threads_per_worker or "auto"
    lines.append(
        f"Workers: {settings.workers}, threads per worker: {threads}, "
        f"region: {settings.region or 'none'}, min confidence: {settings.min_confidence:g}"
    )
    if total.errors or total.unlabelled_images:
        lines.append(
            f"Skipped: {total.errors} unreadable image(s), "
            f"{total.unlabelled_images} image(s) without labels"
        )
    return "\n".join(lines)


def _table(runs: Sequence[FolderRun], settings: BenchSettings) -> list[str]:
    """Return the table's lines: header, one row per folder, overall, ruled between."""
    concurrent = settings.workers > 1
    header = [
        "folder",
        "images",
        "plates",
        "plate acc",
        "char acc",
        "det recall",
        "false/img",
        "p50 ms",
        "p95 ms",
        "max ms",
        "img/s",
    ]
    if concurrent:
        header.append(f"img/s x{settings.workers}")
    rows: list[list[str]] = [header]
    for name, summary in [
        *((r.dataset.name, r.summary()) for r in runs),
        ("overall", overall(runs)),
    ]:
        row = [
            name,
            str(summary.images),
            str(summary.labelled_plates),
            _pct(summary.plate_accuracy),
            _pct(summary.character_accuracy),
            _pct(summary.detection_recall),
            _num(summary.false_plates_per_image, ".2f"),
            _num(summary.latency_p50, ".0f"),
            _num(summary.latency_p95, ".0f"),
            _num(summary.latency_max, ".0f"),
            _num(summary.sequential_ips, ".2f"),
        ]
        if concurrent:
            row.append(_num(summary.concurrent_ips, ".2f"))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return lines
