"""Photo processing against nasty inputs, made with Pillow in the tests."""

from __future__ import annotations

import io
import os
from datetime import datetime

import pytest
from PIL import Image

from audit_app.core.errors import DomainError
from audit_app.evidence.processing import REPORT_EDGE, THUMB_EDGE, TooLarge, process_photo
from tests.factories import encode, png_header_claiming, rotated_jpeg_with_gps

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):  # messages are translated
        yield


def process(data: bytes, **kw):
    kw.setdefault("max_bytes", 15 * MB)
    return process_photo(data, **kw)


def noisy(size=(400, 300), mode="RGB") -> Image.Image:
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))


def assert_no_metadata(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    assert not image.getexif(), "EXIF left in a stored version"
    assert b"Exif" not in data and b"GPS" not in data
    assert not {"exif", "xmp", "icc_profile", "comment", "Comment"} & set(image.info)
    if image.format == "PNG":
        assert not getattr(image, "text", {})


def all_versions(processed):
    return (processed.original, processed.report, processed.thumb)


# --- refused ----------------------------------------------------------------------------------

def test_a_text_file_named_jpg_is_refused():
    with pytest.raises(DomainError) as err:
        process(b"Dear diary, this is not a photo at all.\n" * 10)
    assert err.value.status == 400 and "JPEG, PNG or WebP" in err.value.message


def test_a_zero_byte_file_is_refused():
    with pytest.raises(DomainError) as err:
        process(b"")
    assert err.value.status == 400 and "empty" in err.value.message


def test_a_truncated_jpeg_is_refused():
    import weasyprint  # noqa: F401  (sets Pillow's LOAD_TRUNCATED_IMAGES when imported)

    data = encode(noisy(), "JPEG", quality=90)
    with pytest.raises(DomainError) as err:
        process(data[: len(data) // 2])
    assert err.value.status == 400 and "damaged" in err.value.message


def test_an_image_declaring_enormous_dimensions_is_refused_before_decoding():
    with pytest.raises(DomainError) as err:
        process(png_header_claiming(100_000, 100_000))
    assert err.value.status == 400 and "pixels" in err.value.message


def test_an_image_just_over_the_pixel_limit_is_refused():
    # between the limit and twice the limit Pillow only warns; that is refused too
    with pytest.raises(DomainError) as err:
        process(png_header_claiming(7000, 7000), max_pixels=40_000_000)
    assert "pixels" in err.value.message
    with pytest.raises(DomainError):
        process(encode(Image.new("RGB", (100, 100)), "PNG"), max_pixels=5_000)


def test_an_oversized_file_is_refused_with_413():
    data = encode(noisy((600, 600)), "PNG")
    assert len(data) > MB
    with pytest.raises(TooLarge) as err:
        process(data, max_bytes=MB)
    assert err.value.status == 413 and "1 MB" in err.value.message


def test_an_animated_gif_is_refused():
    frames = [Image.new("P", (40, 40), i * 40) for i in range(3)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with pytest.raises(DomainError) as err:
        process(data)
    assert err.value.status == 400


def test_an_animated_png_is_refused():
    frames = [Image.new("RGB", (40, 40), (i * 60, 0, 0)) for i in range(3)]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(DomainError) as err:
        process(data)
    assert "Animated" in err.value.message


def test_bmp_and_tiff_are_refused_even_though_pillow_reads_them():
    for fmt in ("BMP", "TIFF"):
        with pytest.raises(DomainError):
            process(encode(Image.new("RGB", (20, 20)), fmt))


# --- accepted and cleaned -------------------------------------------------------------------------

def test_exif_rotation_is_applied_and_all_metadata_gps_included_is_stripped():
    processed = process(rotated_jpeg_with_gps())
    original = Image.open(io.BytesIO(processed.original.data))
    assert original.size == (40, 80)  # width and height swapped: stored upright
    assert (processed.original.width, processed.original.height) == (40, 80)
    red, blue = original.getpixel((20, 10)), original.getpixel((20, 70))
    assert red[0] > 200 and red[2] < 60 and blue[2] > 200 and blue[0] < 60  # left half went to the top
    for version in all_versions(processed):
        assert_no_metadata(version.data)
    assert processed.captured_at == datetime(2025, 3, 14, 7, 26, 53)  # 09:26:53 Helsinki time, in UTC
    report = Image.open(io.BytesIO(processed.report.data))
    assert report.size[1] > report.size[0]


def test_a_cmyk_jpeg_becomes_rgb():
    processed = process(encode(Image.new("CMYK", (120, 90), (0, 255, 255, 0)), "JPEG"))
    for version in all_versions(processed):
        image = Image.open(io.BytesIO(version.data))
        assert image.mode == "RGB" and version.content_type == "image/jpeg"
    r, g, b = Image.open(io.BytesIO(processed.original.data)).getpixel((10, 10))
    assert r > 150 and g < 100 and b < 100  # cyan 0, magenta and yellow full: red


def test_a_png_with_transparency_stays_a_png_and_the_jpeg_versions_are_flattened_on_white():
    image = Image.new("RGBA", (100, 60), (0, 0, 0, 0))
    image.paste((31, 95, 139, 255), (0, 0, 50, 60))
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_text("Comment", "secret location 60.17N 24.94E")
    processed = process(encode(image, "PNG", pnginfo=info))
    assert processed.original.content_type == "image/png"
    original = Image.open(io.BytesIO(processed.original.data))
    assert original.mode == "RGBA"
    assert original.getpixel((80, 30))[3] == 0 and original.getpixel((10, 30)) == (31, 95, 139, 255)
    report = Image.open(io.BytesIO(processed.report.data))
    assert processed.report.content_type == "image/jpeg" and report.mode == "RGB"
    assert min(report.getpixel((80, 30))) > 240  # white where it was transparent
    for version in all_versions(processed):
        assert_no_metadata(version.data)
    assert b"secret location" not in processed.original.data


def test_a_palette_png_with_a_transparent_colour_keeps_transparency():
    image = Image.new("P", (30, 30), 0)
    image.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 15, 30))
    processed = process(encode(image, "PNG", transparency=0))
    original = Image.open(io.BytesIO(processed.original.data))
    assert original.mode == "RGBA" and original.getpixel((25, 5))[3] == 0


def test_webp_is_accepted_and_stored_as_jpeg():
    processed = process(encode(Image.new("RGB", (50, 40), (10, 200, 10)), "WEBP"))
    assert processed.original.content_type == "image/jpeg" and processed.original.extension == "jpg"


def test_versions_have_the_right_sizes_and_the_hash_is_of_the_stored_original():
    import hashlib

    processed = process(encode(noisy((3000, 2000)), "JPEG", quality=80))
    assert (processed.original.width, processed.original.height) == (3000, 2000)
    assert max(Image.open(io.BytesIO(processed.report.data)).size) == REPORT_EDGE
    assert max(Image.open(io.BytesIO(processed.thumb.data)).size) == THUMB_EDGE
    assert processed.sha256 == hashlib.sha256(processed.original.data).hexdigest()
    assert processed.captured_at is None


def test_a_grayscale_jpeg_and_a_16_bit_png_are_accepted():
    assert process(encode(Image.new("L", (30, 20), 128), "JPEG")).original.width == 30
    assert process(encode(Image.new("I;16", (30, 20), 3000), "PNG")).original.content_type == "image/png"


def test_broken_exif_date_does_not_refuse_the_photo():
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "not a date"
    processed = process(encode(Image.new("RGB", (20, 20)), "JPEG", exif=exif))
    assert processed.captured_at is None
