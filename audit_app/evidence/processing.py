"""Safe photo processing with Pillow.

What happens to an upload, in order:

1. Judged by content, never by name or declared type: only JPEG, PNG and WebP open
   (HEIC would need pillow-heif, which is not installed). Animated images are refused.
2. The pixel size is read from the header and checked against the limit *before* the pixels
   are decoded (decompression bombs); Pillow's own bomb guard is set to the same limit.
3. The whole image is decoded (a truncated file fails here), the EXIF orientation applied,
   and the capture time (EXIF DateTimeOriginal with OffsetTimeOriginal, else DateTime) read, in UTC.
4. Everything is re-encoded from bare pixels, so no metadata survives (EXIF, GPS, XMP, ICC,
   text chunks). CMYK and other modes become RGB.
5. Stored versions: the cleaned original (PNG when the upload was a PNG, so transparency and
   sharp screenshots are kept; JPEG otherwise), a report-size JPEG (1600 px on the long edge)
   and a thumbnail JPEG (320 px). The JPEG versions of a transparent image are flattened on
   white.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..core.errors import DomainError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
REPORT_EDGE = 1600
THUMB_EDGE = 320
DEFAULT_MAX_PIXELS = 40_000_000
JPEG_QUALITY = 88

EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 36867
DATETIME = 306
OFFSET_TIME_ORIGINAL = 36881
OFFSET_TIME = 36880
#: a capture time written without its offset is the camera's local time: read in this zone
DEFAULT_CAPTURE_ZONE = "Europe/Helsinki"


class TooLarge(DomainError):
    status = 413


@dataclass(frozen=True)
class Version:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedPhoto:
    original: Version
    report: Version
    thumb: Version
    captured_at: datetime | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.original.data).hexdigest()


def _bad(message: str) -> DomainError:
    return DomainError(message, field="file")


def check_size(size: int, max_bytes: int) -> None:
    if size <= 0:
        raise _bad(_("The file is empty."))
    if size > max_bytes:
        raise TooLarge(
            _("The photo is too large. The limit is %(mb)d MB.", mb=max(1, max_bytes // (1024 * 1024))),
            field="file",
        )


def _not_an_image() -> DomainError:
    return _bad(_("This file is not a photo we can accept. Please send a JPEG, PNG or WebP image."))


def _too_many_pixels() -> DomainError:
    return _bad(_("The image is too large in pixels. Please send a smaller photo."))


def _open(data: bytes, max_pixels: int) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise _not_an_image() from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise _not_an_image()
    if width * height > max_pixels:
        raise _too_many_pixels()
    return image


def _text(raw) -> str | None:
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "ignore")
    return raw.strip("\x00 ") if isinstance(raw, str) else None


def parse_offset(text: str | None) -> timedelta | None:
    """``+03:00`` / ``-05:30`` as a timedelta; None when absent or not of that form."""
    if not text or len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    sign = 1 if text[0] == "+" else -1
    return sign * timedelta(hours=hours, minutes=minutes)


def exif_time_to_utc(stamp: str | None, offset: str | None, zone: str = DEFAULT_CAPTURE_ZONE) -> datetime | None:
    """An EXIF ``YYYY:MM:DD HH:MM:SS`` with its offset (``OffsetTimeOriginal``) as naive UTC; without an
    offset the time is read in ``zone`` (the camera's clock is local time)."""
    if not stamp:
        return None
    try:
        local = datetime.strptime(stamp[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    delta = parse_offset(offset)
    if delta is not None:
        return local - delta
    try:
        return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)
    except (KeyError, ValueError):
        return local


def _captured_at(image: Image.Image, zone: str = DEFAULT_CAPTURE_ZONE) -> datetime | None:
    """The capture time (EXIF DateTimeOriginal with OffsetTimeOriginal, else DateTime with OffsetTime) in
    naive UTC, read from the original before anything is scaled or stripped."""
    try:
        exif = image.getexif()
        sub = exif.get_ifd(EXIF_IFD)
        stamp, offset = _text(sub.get(DATETIME_ORIGINAL)), _text(sub.get(OFFSET_TIME_ORIGINAL))
        if not stamp:
            stamp, offset = _text(exif.get(DATETIME)), _text(sub.get(OFFSET_TIME))
    except Exception:  # broken EXIF must not refuse a good photo
        return None
    return exif_time_to_utc(stamp, offset, zone)


def _bare(image: Image.Image, keep_alpha: bool) -> Image.Image:
    """The pixels only, in RGB or RGBA, with no metadata attached."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if keep_alpha and has_alpha else "RGB"
    if image.mode == "CMYK" or image.mode not in ("RGB", "RGBA"):
        if has_alpha and mode == "RGB":
            image = image.convert("RGBA")
        else:
            image = image.convert(mode if mode == "RGBA" else "RGB")
    if image.mode == "RGBA" and mode == "RGB":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def _encode(image: Image.Image, fmt: str) -> Version:
    buffer = io.BytesIO()
    if fmt == "PNG":
        image.save(buffer, format="PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        content_type, extension = "image/jpeg", "jpg"
    return Version(buffer.getvalue(), content_type, extension, image.width, image.height)


def _scaled(image: Image.Image, edge: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    return copy


def _load_strictly(image: Image.Image) -> None:
    """Decode every pixel, failing on a truncated file.

    WeasyPrint sets Pillow's process-wide ``LOAD_TRUNCATED_IMAGES`` when it is imported, which
    would let a half-sent photo through with grey pixels; uploads are always decoded strictly.
    """
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def process_photo(data: bytes, *, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS,
                  capture_zone: str = DEFAULT_CAPTURE_ZONE) -> ProcessedPhoto:
    """Check and clean an uploaded photo; ``DomainError`` (400) or ``TooLarge`` (413) when refused."""
    check_size(len(data), max_bytes)
    image = _open(data, max_pixels)
    source_format = image.format
    if getattr(image, "is_animated", False) or getattr(image, "n_frames", 1) > 1:
        raise _bad(_("Animated images are not accepted. Please send a still photo."))
    try:
        image.verify()  # structure and checksums, without decoding the pixels
        image = _open(data, max_pixels)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            _load_strictly(image)  # a truncated or corrupt file fails here
        captured_at = _captured_at(image, capture_zone)
        upright = ImageOps.exif_transpose(image)
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except Exception as exc:  # Pillow raises many types for broken files
        raise _bad(_("The photo file is damaged or incomplete. Please take or choose it again.")) from exc

    keep_png = source_format == "PNG"
    original_pixels = _bare(upright, keep_alpha=keep_png)
    original = _encode(original_pixels, "PNG" if keep_png else "JPEG")
    flat = _bare(original_pixels, keep_alpha=False)
    report = _encode(_scaled(flat, REPORT_EDGE), "JPEG")
    thumb = _encode(_scaled(flat, THUMB_EDGE), "JPEG")
    return ProcessedPhoto(original=original, report=report, thumb=thumb, captured_at=captured_at)
