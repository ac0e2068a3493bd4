"""Capture time and integrity of evidence photos (issue 15): the capture time read from the original
(by the server from an unscaled file, by the browser before it scales), the visit-window flag at its
boundaries, and the SHA-256 of the stored original on the review screen."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta

import pytest
from flask import url_for
from PIL import Image

from audit_app.core.models import utcnow
from audit_app.evidence.integrity import parse_browser_time, window_flag, window_state
from audit_app.evidence.models import Photo
from audit_app.evidence.processing import exif_time_to_utc, process_photo
from audit_app.evidence.storage import get_storage
from audit_app.extensions import db
from audit_app.visits.models import Visit
from tests.factories import encode, jpeg_bytes, make_photo, make_version, make_visit


@pytest.fixture(autouse=True)
def _each_test_starts_with_no_photos(empty_storage):
    pass


@pytest.fixture
def visit_id(app, world):
    with app.app_context():
        version = make_version()
        evaluator = db.session.merge(world.evaluator)
        evaluator.language = "en"
        visit = make_visit(db.session.merge(world.client_a), evaluator, version, status="in_progress")
        db.session.commit()
        return visit.id


def jpeg_with_capture(stamp: str, offset: str | None = None) -> bytes:
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[36867] = stamp
    if offset:
        sub[36881] = offset
    return encode(Image.new("RGB", (64, 48), (10, 120, 200)), "JPEG", exif=exif)


def upload(browser, app, visit_id, data, **fields):
    with app.test_request_context():
        url = url_for("evidence.upload", visit_id=visit_id)
    form = {"file": (io.BytesIO(data), "photo.jpg"), **fields}
    return browser.post(url, form, content_type="multipart/form-data", headers={"Accept": "application/json"})


def stored(app, photo_id) -> Photo:
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        db.session.expunge(photo)
        return photo


# --- reading the capture time -------------------------------------------------------------------

def test_the_server_reads_date_time_original_with_its_offset_before_scaling_and_strips_it():
    processed = process_photo(jpeg_with_capture("2026:05:04 14:30:00", "+03:00"), max_bytes=10 * 1024 * 1024)
    assert processed.captured_at == datetime(2026, 5, 4, 11, 30, 0)
    for version in (processed.original, processed.report, processed.thumb):
        assert b"Exif" not in version.data and not Image.open(io.BytesIO(version.data)).getexif()


def test_without_an_offset_the_camera_time_is_read_in_the_configured_zone():
    assert exif_time_to_utc("2026:01:10 12:00:00", None) == datetime(2026, 1, 10, 10, 0)  # Helsinki winter
    assert exif_time_to_utc("2026:07:10 12:00:00", None) == datetime(2026, 7, 10, 9, 0)  # Helsinki summer
    assert exif_time_to_utc("2026:07:10 12:00:00", "-05:00") == datetime(2026, 7, 10, 17, 0)
    assert exif_time_to_utc("2026:07:10 12:00:00", "bogus") == datetime(2026, 7, 10, 9, 0)
    assert exif_time_to_utc("not a time", "+02:00") is None


def test_the_browser_field_is_read_as_utc_and_nonsense_is_ignored():
    now = datetime(2026, 5, 4, 12, 0)
    assert parse_browser_time("2026-05-04T14:30:00+03:00", now) == datetime(2026, 5, 4, 11, 30)
    assert parse_browser_time("2026-05-04T11:30:00.000Z", now) == datetime(2026, 5, 4, 11, 30)
    for bad in ("", None, "yesterday", "2026-05-04T11:30:00", "2026-05-09T11:30:00Z", "1970-01-01T00:00:00Z", "x" * 80):
        assert parse_browser_time(bad, now) is None, bad


def test_capture_time_is_stored_from_the_uploads_field_for_a_scaled_file(app, login_as, visit_id):
    eva = login_as("evaluator")
    when = (utcnow() - timedelta(minutes=3)).replace(microsecond=0)
    response = upload(eva, app, visit_id, jpeg_bytes(), client_uid="c" * 32, captured_at=when.isoformat() + "Z")
    assert response.status_code == 201, response.get_json()
    assert stored(app, response.get_json()["id"]).captured_at == when


def test_capture_time_is_read_by_the_server_from_an_unscaled_file_and_wins_over_the_field(app, login_as, visit_id):
    eva = login_as("evaluator")
    response = upload(eva, app, visit_id, jpeg_with_capture("2026:05:04 14:30:00", "+03:00"),
                      client_uid="d" * 32, captured_at="2026-01-01T00:00:00Z")
    assert response.status_code == 201
    photo = stored(app, response.get_json()["id"])
    assert photo.captured_at == datetime(2026, 5, 4, 11, 30)
    with app.app_context():
        assert b"Exif" not in get_storage().get(photo.storage_key)


def test_a_bad_capture_field_never_refuses_the_photo(app, login_as, visit_id):
    eva = login_as("evaluator")
    response = upload(eva, app, visit_id, jpeg_bytes(), client_uid="e" * 32, captured_at="<script>")
    assert response.status_code == 201
    assert stored(app, response.get_json()["id"]).captured_at is None


# --- the visit window (DESIGN section 4) --------------------------------------------------------

START = datetime(2026, 5, 4, 10, 0, 0)
SUBMIT = datetime(2026, 5, 4, 11, 0, 0)


@pytest.mark.parametrize(("captured", "state"), [
    (START - timedelta(minutes=15), "in"),
    (START - timedelta(minutes=15, seconds=1), "before"),
    (START, "in"),
    (SUBMIT, "in"),
    (SUBMIT + timedelta(seconds=1), "after"),
    (None, "unknown"),
])
def test_window_boundaries(captured, state):
    assert window_state(captured, START, SUBMIT)[0] == state


def test_before_submission_the_window_closes_now():
    now = START + timedelta(minutes=30)
    assert window_state(now, START, None, now=now)[0] == "in"
    assert window_state(now + timedelta(minutes=1), START, None, now=now)[0] == "after"
    assert window_state(now, None, None)[0] == "not_started"


def test_flag_texts(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert window_flag(START - timedelta(days=3), START, SUBMIT)["text"] == "Taken 3 days before the visit started"
        assert window_flag(SUBMIT + timedelta(hours=2), START, SUBMIT)["text"] == "Taken 2 hours after the visit was submitted"
        assert window_flag(START, START, SUBMIT) == {"state": "in", "flagged": False, "text": "Taken during the visit"}
        assert window_flag(None, START, SUBMIT)["flagged"] is True


# --- the review screen --------------------------------------------------------------------------

def test_review_screen_flags_the_window_and_shows_the_hash_of_the_stored_original(app, world, login_as, visit_id):
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        evaluator = db.session.merge(world.evaluator)
        early = make_photo(visit, evaluator, caption="Early", client_uid="early" + "0" * 27,
                           data=jpeg_with_capture((visit.started_at - timedelta(days=3)).strftime("%Y:%m:%d %H:%M:%S"),
                                                  "+00:00"))
        during = make_photo(visit, evaluator, caption="During", client_uid="during" + "0" * 26,
                            data=jpeg_with_capture(visit.started_at.strftime("%Y:%m:%d %H:%M:%S"), "+00:00"))
        none = make_photo(visit, evaluator, caption="None", client_uid="nonetime" + "0" * 24)
        db.session.commit()
        photos = {p.caption: (p.id, p.sha256, get_storage().get(p.storage_key)) for p in (early, during, none)}
    admin = login_as("admin")
    with app.test_request_context():
        url = url_for("submissions.review", visit_id=visit_id)
    html = admin.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    import re

    def figure(photo_id):
        match = re.search(rf'<figure class="rv-photo[^"]*" data-photo-id="{photo_id}".*?</figure>', html, re.S)
        assert match, photo_id
        return match.group(0)

    for photo_id, sha, original in photos.values():
        block = figure(photo_id)
        assert hashlib.sha256(original).hexdigest() == sha
        assert f"<code class=\"text-break\" data-sha256>{sha}</code>" in block
    assert 'data-capture-state="before"' in figure(photos["Early"][0])
    assert "Kuvattu 3 päivää ennen käynnin alkua" in figure(photos["Early"][0])  # the admin reads Finnish
    assert 'data-capture-state="in"' in figure(photos["During"][0])
    assert 'data-capture-state="unknown"' in figure(photos["None"][0])
