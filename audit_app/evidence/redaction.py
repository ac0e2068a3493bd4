"""Blurring faces and licence plates: regions, and the redacted versions made from the original.

A region is a box in the original photo's pixels, ``{"id", "kind", "x", "y", "w", "h", "source"}``
(kind ``face``, ``plate`` or ``other``; source ``auto`` from the detector or ``admin`` drawn on the
review screen). The redacted versions are always made again from the cleaned original and the
whole list, so removing a region brings its pixels back and nothing is blurred twice.

Strength: each box is widened by ``GROW`` of its size on every side, pixelated to at most
``BLOCKS`` blocks across its longer side (so a face keeps no feature) and then smoothed with a
Gaussian blur of one block's radius. Both scale with the box: a small far-away face gets small blocks,
a close one large blocks.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageOps

from .processing import REPORT_EDGE, THUMB_EDGE, Version, _encode, _load_strictly

GROW = 0.15
BLOCKS = 5
KINDS = ("face", "plate", "other")
SOURCES = ("auto", "admin")
MAX_REGIONS = 200


@dataclass(frozen=True)
class Redacted:
    report: Version
    thumb: Version


def new_region(kind: str, x: int, y: int, w: int, h: int, source: str) -> dict:
    return {"id": uuid.uuid4().hex[:12], "kind": kind if kind in KINDS else "other",
            "x": int(x), "y": int(y), "w": int(w), "h": int(h), "source": source if source in SOURCES else "admin"}


def clamp_region(region: dict, width: int, height: int) -> dict | None:
    """The region cut to the photo, or None when nothing of it is inside (or it is under 2 px)."""
    x0, y0 = max(0, int(region["x"])), max(0, int(region["y"]))
    x1 = min(width, int(region["x"]) + int(region["w"]))
    y1 = min(height, int(region["y"]) + int(region["h"]))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return {**region, "x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}


def grown(region: dict, width: int, height: int) -> tuple[int, int, int, int]:
    """The box widened by ``GROW`` on each side, inside the image: (left, top, right, bottom)."""
    dx, dy = region["w"] * GROW, region["h"] * GROW
    left = max(0, int(region["x"] - dx))
    top = max(0, int(region["y"] - dy))
    right = min(width, int(round(region["x"] + region["w"] + dx)))
    bottom = min(height, int(round(region["y"] + region["h"] + dy)))
    return left, top, right, bottom


def blur_box(image: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Pixelate and blur ``box`` of ``image`` in place, scaled to the box's size."""
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    if w < 2 or h < 2:
        return
    patch = image.crop(box)
    block = max(2, max(w, h) / BLOCKS)
    small = patch.resize((max(1, round(w / block)), max(1, round(h / block))), Image.Resampling.BOX)
    patch = small.resize((w, h), Image.Resampling.NEAREST)
    patch = patch.filter(ImageFilter.GaussianBlur(radius=max(1.0, block)))
    image.paste(patch, (left, top))


def apply_regions(image: Image.Image, regions: list[dict], scale: float) -> Image.Image:
    """A copy of ``image`` (the original scaled by ``scale``) with every region blurred."""
    out = image.copy()
    for region in regions:
        scaled = {k: region[k] * scale for k in ("x", "y", "w", "h")}
        blur_box(out, grown(scaled, out.width, out.height))
    return out


def open_original(data: bytes) -> Image.Image:
    """The stored original (already cleaned and upright when it was uploaded), as flat RGB."""
    image = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
    _load_strictly(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image.convert("RGB")


def _fit(image: Image.Image, edge: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    return copy


def render(original: Image.Image, regions: list[dict]) -> Redacted:
    """The report-size and thumbnail JPEGs of ``original`` with ``regions`` blurred.

    The report version is scaled first and blurred at its own size (the same pixels the
    unredacted report has outside the regions); the thumbnail is made from the blurred report.
    """
    report_pixels = _fit(original, REPORT_EDGE)
    scale = report_pixels.width / original.width
    report_pixels = apply_regions(report_pixels, regions, scale)
    thumb_pixels = _fit(report_pixels, THUMB_EDGE)
    return Redacted(report=_encode(report_pixels, "JPEG"), thumb=_encode(thumb_pixels, "JPEG"))


def upright(image: Image.Image) -> Image.Image:
    return ImageOps.exif_transpose(image)
