"""Geometry of the text-line proposals: tilted boxes, grown and levelled."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from anpr_inference.detectors import TiltedBox
from anpr_inference.results import Box


def _corners(cx: float, cy: float, width: float, height: float, degrees: float) -> np.ndarray:
    """Corners top-left, top-right, bottom-right, bottom-left of a rectangle turned `degrees`."""
    a = math.radians(degrees)
    along, down = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    c = np.array([cx, cy])
    return np.array(
        [
            c - along * width / 2 - down * height / 2,
            c + along * width / 2 - down * height / 2,
            c + along * width / 2 + down * height / 2,
            c - along * width / 2 + down * height / 2,
        ],
        dtype=np.float32,
    )


@pytest.mark.parametrize("degrees", [-12.0, -3.0, 0.0, 5.0, 20.0])
def test_from_quad_recovers_the_rectangle(degrees: float) -> None:
    box = TiltedBox.from_quad(_corners(100, 60, 80, 20, degrees))
    assert box.cx == pytest.approx(100, abs=1e-3)
    assert box.cy == pytest.approx(60, abs=1e-3)
    assert box.width == pytest.approx(80, abs=1e-3)
    assert box.height == pytest.approx(20, abs=1e-3)
    assert math.degrees(box.angle) == pytest.approx(degrees, abs=1e-3)


def test_growing_moves_the_centre_along_the_text_normal() -> None:
    """More growth upwards than downwards moves the centre up, perpendicular to the text."""
    level = TiltedBox(100, 50, 80, 20, 0.0).grown(0.1, 0.5, 0.0)
    assert (level.width, level.height) == pytest.approx((96, 30))
    assert (level.cx, level.cy) == pytest.approx((100, 45))
    turned = TiltedBox(100, 50, 80, 20, math.radians(90)).grown(0.0, 0.5, 0.0)
    # Turned a quarter clockwise, "up" for the text points to +x in the image.
    assert (turned.cx, turned.cy) == pytest.approx((105, 50))


def test_bounds_are_upright_and_clipped() -> None:
    assert TiltedBox(50, 50, 40, 10, 0.0).bounds(200, 100) == Box(30, 45, 70, 55)
    turned = TiltedBox(50, 50, 40, 10, math.radians(90)).bounds(200, 100)
    assert turned == Box(45, 30, 55, 70)
    assert TiltedBox(5, 5, 40, 10, 0.0).bounds(200, 100) == Box(0, 0, 25, 10)


@pytest.mark.parametrize("degrees", [-8.0, 6.0, 15.0])
def test_crop_levels_a_tilted_bar(degrees: float) -> None:
    """A white bar drawn at an angle comes out level: white inside, its sides straight."""
    image = np.zeros((200, 300, 3), dtype=np.uint8)
    corners = _corners(150, 100, 160, 30, degrees)
    cv2.fillPoly(image, [corners.round().astype(np.int32)], (255, 255, 255))
    crop = TiltedBox.from_quad(corners).grown(0.0, 0.5, 0.5).crop(image)
    assert crop.shape == (60, 160, 3)
    # The middle half of the rows is the bar, the outer quarters are background.
    assert crop[20:40, 4:-4].min() > 200
    assert crop[:12, 4:-4].max() < 60
    assert crop[-12:, 4:-4].max() < 60
