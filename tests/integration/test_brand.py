"""The brand images are the sizes Home Assistant asks for, transparent and trimmed.

Home Assistant 2026.3+ shows a custom integration's own `brand/` images (its developers' blog,
"Custom integrations can now ship their own brand images"); the sizes are the brands
repository's rules: icon square, 256x256 and @2x 512x512; logo with its shortest side 128-256
and @2x 256-512; both trimmed, with a transparent background. The add-on store shows the
add-on's `icon.png` (square, 128x128) and `logo.png` (about 250x100). Every PNG is rendered
from brand/*.svg by script/render-brand.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
import pytest

REPO = Path(__file__).resolve().parents[2]
BRAND = REPO / "custom_components" / "anpr" / "brand"
ADDON = REPO / "inference_addon"

# The file names Home Assistant reads from brand/ (the blog post's list).
ALLOWED = {
    f"{dark}{kind}{scale}.png"
    for dark in ("", "dark_")
    for kind in ("icon", "logo")
    for scale in ("", "@2x")
}
# The icon reads on dark backgrounds as it is; the logo's wordmark needs a light ink there.
SHIPPED = ALLOWED - {"dark_icon.png", "dark_icon@2x.png"}


def rgba(path: Path) -> Image.Image:
    with Image.open(path) as image:
        assert image.format == "PNG", path
        assert image.mode == "RGBA", f"{path.name}: needs an alpha channel"
        return image.copy()


def assert_transparent_and_trimmed(image: Image.Image, name: str) -> None:
    alpha = image.getchannel("A")
    width, height = image.size
    assert alpha.getextrema()[0] == 0, f"{name}: the background is not transparent"
    # Trimmed: the drawing touches every edge, so no row or column of margin is left.
    edges = {
        "top": alpha.crop((0, 0, width, 1)),
        "bottom": alpha.crop((0, height - 1, width, height)),
        "left": alpha.crop((0, 0, 1, height)),
        "right": alpha.crop((width - 1, 0, width, height)),
    }
    for edge, strip in edges.items():
        assert strip.getextrema()[1] > 0, f"{name}: empty margin at the {edge}"


def test_brand_folder_holds_the_files_home_assistant_reads() -> None:
    names = {path.name for path in BRAND.iterdir()}
    assert names <= ALLOWED, sorted(names - ALLOWED)
    assert names == SHIPPED


@pytest.mark.parametrize("name", ["icon.png", "icon@2x.png"])
def test_icons_are_square_at_the_asked_sizes(name: str) -> None:
    image = rgba(BRAND / name)
    size = 512 if "@2x" in name else 256
    assert image.size == (size, size)
    assert_transparent_and_trimmed(image, name)


@pytest.mark.parametrize("name", ["logo.png", "dark_logo.png"])
def test_logos_have_their_short_side_in_range(name: str) -> None:
    image, double = rgba(BRAND / name), rgba(BRAND / name.replace(".png", "@2x.png"))
    assert 128 <= min(image.size) <= 256
    assert 256 <= min(double.size) <= 512
    assert double.size == (image.size[0] * 2, image.size[1] * 2)
    assert image.size == rgba(BRAND / "logo.png").size
    assert image.size[0] > image.size[1], "a logo is the wide image"
    assert_transparent_and_trimmed(image, name)
    assert_transparent_and_trimmed(double, name)


def test_dark_logo_differs_where_the_ink_is_light() -> None:
    light, dark = rgba(BRAND / "logo.png"), rgba(BRAND / "dark_logo.png")
    assert light.tobytes() != dark.tobytes()
    # The left part (the icon) is the same drawing; only the wordmark changes ink.
    icon = (0, 0, light.size[1], light.size[1])
    assert light.crop(icon).tobytes() == dark.crop(icon).tobytes()


def test_addon_store_images() -> None:
    icon, logo = rgba(ADDON / "icon.png"), rgba(ADDON / "logo.png")
    assert icon.size == (128, 128)
    assert logo.size[0] <= 250
    assert logo.size[1] <= 100
    assert logo.size[0] > logo.size[1]
    assert_transparent_and_trimmed(icon, "add-on icon.png")
    assert_transparent_and_trimmed(logo, "add-on logo.png")


def test_svg_sources_are_committed_beside_the_renderer() -> None:
    for name in ("icon.svg", "logo.svg"):
        text = (REPO / "brand" / name).read_text(encoding="utf-8")
        assert "<text" not in text, f"{name}: text needs fonts; draw the letters as strokes"
    assert (REPO / "script" / "render-brand").stat().st_mode & 0o111
