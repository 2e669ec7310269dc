"""Shared fixtures of the inference service's tests: the `../shared` models and photos.

`../shared` sits beside the repository (CI always has it); it is referenced, never copied.
A test that needs it and does not find it fails with a message naming the missing path,
instead of being skipped, so a broken checkout cannot pass silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = (REPO_ROOT / ".." / "shared").resolve()

SAMPLE_PHOTOS = ("br/AYO9034.jpg", "br/AZJ6991.jpg", "us/0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg")
"""A few labelled photos of the openalpr benchmark, relative to `dataset_dir`."""


def require_path(path: Path) -> Path:
    """Return `path`, or fail the test with a message saying what is missing and why."""
    if not path.exists():
        pytest.fail(
            f"{path} is missing: the tests need the shared models and datasets in "
            f"{SHARED_DIR} (beside the repository)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Return `../shared` beside the repository."""
    return require_path(SHARED_DIR)


@pytest.fixture(scope="session")
def models_dir(shared_dir: Path) -> Path:
    """Return the folder of the real OCR model and its plate config (`cct_xs_v1_global.*`)."""
    return require_path(shared_dir / "models")


@pytest.fixture(scope="session")
def dataset_dir(shared_dir: Path) -> Path:
    """Return the openalpr benchmark folder: `{br,us}/NAME.jpg` with `NAME.txt` labels."""
    return require_path(shared_dir / "datasets" / "openalpr-benchmarks")


@pytest.fixture(scope="session")
def sample_photos(dataset_dir: Path) -> dict[str, bytes]:
    """Load a few real car photos (JPEG bytes), keyed by their path in the dataset."""
    return {name: require_path(dataset_dir / name).read_bytes() for name in SAMPLE_PHOTOS}
