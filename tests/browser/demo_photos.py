"""Project-made car pictures for the card's screenshots.

The README's screenshots of the card must show nothing from the OpenALPR benchmark set (its
photos are AGPL data and may not be copied into this MIT repository, not even inside a
screenshot). These pictures are drawn here with Pillow instead: a plain driveway, a car-like
shape and a licence plate with a made-up number, written at test time and never committed.
The real inference service reads them (the browser test scans them like any photo).

Run `python -m tests.browser.demo_photos <folder>` to look at them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
"""DejaVu Sans Bold (Debian's fonts-dejavu-core; free licence, Bitstream Vera derived).

Only used to draw the pictures at test time; the font is not copied into the repository.
"""
SIZE = (960, 640)


@dataclass(frozen=True)
class DemoCar:
    """One made-up car: its plate, how the plate looks and the body colour."""

    plate: str
    text: str
    """The plate as painted (with the region's separator)."""
    plate_size: tuple[int, int]
    background: str
    body: str
    band: str | None = None
    """The colour of a Mercosur plate's top band (None: an older plate without one)."""


DEMO_CARS = (
    DemoCar("ABC1234", "ABC-1234", (230, 76), "#f2f2f2", "#3b5b8c"),
    DemoCar("BRA2E19", "BRA2E19", (230, 76), "#fbfbfb", "#8c2f2f", band="#1d4fa0"),
    DemoCar("KMN4521", "KMN-4521", (230, 76), "#d9d9d4", "#4d5a4d"),
)
"""Made-up plates in the layouts of the country the browser test's camera is set to (BR):
the older grey-white plate with a dash, and the Mercosur plate with its blue band."""


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


def _plate(car: DemoCar) -> Image.Image:
    """Draw the plate alone: a light plate, a dark border and the number in a plain font."""
    width, height = car.plate_size
    plate = Image.new("RGB", car.plate_size, car.background)
    draw = ImageDraw.Draw(plate)
    top_margin = 0
    if car.band:
        top_margin = height // 5
        draw.rectangle((0, 0, width, top_margin), fill=car.band)
        small = _font(top_margin - 4)
        draw.text((width / 2, top_margin / 2), "BRASIL", font=small, fill="white", anchor="mm")
    draw.rounded_rectangle((1, 1, width - 2, height - 2), radius=6, outline="#202020", width=3)
    height -= top_margin
    size = height
    while size > 8:
        font = _font(size)
        left, top, right, bottom = draw.textbbox((0, 0), car.text, font=font)
        if right - left <= width * 0.86 and bottom - top <= height * 0.62:
            break
        size -= 1
    draw.text(
        ((width - (right - left)) / 2 - left, top_margin + (height - (bottom - top)) / 2 - top),
        car.text,
        font=font,
        fill="#161616",
    )
    return plate


def draw_car(car: DemoCar) -> Image.Image:
    """Draw the scene: sky, a wall, the drive, the back of a car and its plate."""
    width, height = SIZE
    scene = Image.new("RGB", SIZE, "#9fb8cf")
    draw = ImageDraw.Draw(scene)
    draw.rectangle((0, 150, width, 330), fill="#b9a58c")  # garden wall
    draw.rectangle((0, 330, width, height), fill="#6f6f6a")  # the drive
    left, right = 190, width - 190
    draw.rounded_rectangle((left + 70, 150, right - 70, 300), radius=40, fill=car.body)
    draw.rounded_rectangle((left + 100, 172, right - 100, 280), radius=24, fill="#26313b")
    draw.rounded_rectangle((left, 270, right, 520), radius=36, fill=car.body)
    for x in (left + 20, right - 120):  # rear lights
        draw.rounded_rectangle((x, 310, x + 100, 350), radius=10, fill="#b3261e")
    draw.rectangle((left + 10, 520, left + 110, 575), fill="#1c1c1c")  # wheels
    draw.rectangle((right - 110, 520, right - 10, 575), fill="#1c1c1c")
    draw.rectangle((left + 20, 470, right - 20, 505), fill="#2b2b2b")  # bumper
    plate = _plate(car)
    scene.paste(plate, ((width - plate.width) // 2, 380))
    # A little softness, as a camera gives.
    return scene.filter(ImageFilter.GaussianBlur(0.6))


def write_demo_photos(folder: Path) -> dict[str, Path]:
    """Write one JPEG per demo car into `folder`; return their paths by plate."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for car in DEMO_CARS:
        path = folder / f"{car.plate}.jpg"
        draw_car(car).save(path, quality=90)
        paths[car.plate] = path
    return paths


if __name__ == "__main__":
    for written in write_demo_photos(Path(sys.argv[1])).values():
        sys.stdout.write(f"{written}\n")
