"""Faces and licence plates are blurred before anyone outside the agency sees a photo.

The photo: the astronaut of scikit-image (public domain, ``tests/data/astronaut.jpg``) and a
synthetic Finnish plate drawn with Pillow, on a noisy background, at known boxes. Evidence is
checked on local storage and on the S3 server (moto's server mode over HTTP).
"""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from flask import url_for
from PIL import Image

from audit_app.evidence import jobs
from audit_app.evidence.models import Photo
from audit_app.evidence.storage import EXTENSION_KEY, get_storage
from audit_app.extensions import db
from audit_app.submissions.models import AuditEvent
from bench.redaction_bench import plate_image
from tests.factories import make_version, make_visit

FACE = (142, 129, 92, 92)  # x, y, w, h in the photo's pixels
PLATE = (760, 640, 300, 70)


def known_photo() -> bytes:
    face = Image.open(Path(__file__).parent / "data" / "astronaut.jpg").convert("RGB")
    rng = np.random.default_rng(3)
    canvas = Image.fromarray(rng.normal(128, 30, (900, 1200, 3)).clip(0, 255).astype("uint8"))
    canvas.paste(face, (60, 60))
    canvas.paste(plate_image("ABC-123", PLATE[2]), PLATE[:2])
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture(params=["local", "s3"])
def store(request, app):
    """The app's evidence storage: local disk as configured, or a bucket on the local S3 server."""
    if request.param == "local":
        yield "local"
        return
    from tests.conftest import make_s3_storage

    saved = app.extensions.get(EXTENSION_KEY)
    app.extensions[EXTENSION_KEY] = make_s3_storage(request.getfixturevalue("s3_endpoint"))
    try:
        yield "s3"
    finally:
        app.extensions[EXTENSION_KEY] = saved


@pytest.fixture
def visit_id(app, world):
    with app.app_context():
        visit = make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator), make_version(),
                           status="in_progress")
        db.session.merge(world.admin).language = "en"
        db.session.commit()
        return visit.id


def upload(app, login_as, visit_id, data=None) -> int:
    with app.test_request_context():
        url = url_for("evidence.upload", visit_id=visit_id)
    response = login_as("evaluator").post(url, {"file": (io.BytesIO(data or known_photo()), "p.jpg")},
                                          content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert response.status_code == 201, response.data
    return response.get_json()["id"]


def set_status(app, visit_id, status):
    from audit_app.visits.models import Visit

    with app.app_context():
        db.session.get(Visit, visit_id).status = status
        db.session.commit()


def photo_row(app, photo_id) -> Photo:
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        db.session.expunge(photo)
        return photo


def url(app, endpoint, **kw):
    with app.test_request_context():
        return url_for(endpoint, **kw)


def fetch(browser, address):
    """(status, image) of a photo URL, following S3's presigned redirect over HTTP."""
    response = browser.get(address)
    if response.status_code == 302:
        with urllib.request.urlopen(response.headers["Location"], timeout=10) as fetched:
            return 200, Image.open(io.BytesIO(fetched.read())).convert("RGB")
    if response.status_code != 200:
        return response.status_code, None
    return 200, Image.open(io.BytesIO(response.data)).convert("RGB")


def stored(app, key) -> Image.Image:
    with app.app_context():
        return Image.open(io.BytesIO(get_storage().get(key))).convert("RGB")


def box_pixels(image: Image.Image, box, scale: float) -> np.ndarray:
    x, y, w, h = (round(v * scale) for v in box)
    return np.asarray(image, dtype=np.float32)[y:y + h, x:x + w]


def outside_mask(image: Image.Image, boxes, scale: float, margin: float) -> np.ndarray:
    """True where a pixel is far (``margin`` of the box size, plus a JPEG block) from every box."""
    mask = np.ones((image.height, image.width), dtype=bool)
    for x, y, w, h in boxes:
        pad_x, pad_y = w * margin + 16 / scale, h * margin + 16 / scale
        x0, y0 = max(0, round((x - pad_x) * scale)), max(0, round((y - pad_y) * scale))
        x1, y1 = round((x + w + pad_x) * scale), round((y + h + pad_y) * scale)
        mask[y0:y1, x0:x1] = False
    return mask


def assert_blurred(redacted: Image.Image, plain: Image.Image, boxes, scale: float) -> None:
    assert redacted.size == plain.size
    for box in boxes:
        before = box_pixels(plain, box, scale).var(axis=(0, 1)).mean()
        after = box_pixels(redacted, box, scale).var(axis=(0, 1)).mean()
        assert after < before / 5, (box, before, after)  # detail inside the box is gone
    mask = outside_mask(plain, boxes, scale, margin=0.2)
    diff = np.abs(np.asarray(redacted, dtype=np.float32) - np.asarray(plain, dtype=np.float32))[mask]
    assert diff.mean() < 2.5 and np.percentile(diff, 99) < 16  # the rest is the same photo


def test_a_known_face_and_plate_are_blurred_in_every_version_a_client_can_fetch(app, login_as, visit_id, store):
    photo_id = upload(app, login_as, visit_id)
    jobs.drain()
    photo = photo_row(app, photo_id)
    assert photo.redaction_state == "done" and photo.redaction_attempts == 0
    kinds = sorted(r["kind"] for r in photo.regions)
    assert kinds == ["face", "plate"] and all(r["source"] == "auto" for r in photo.regions)

    set_status(app, visit_id, "approved")
    client = login_as("client")
    for size, key in (("report", photo.report_key), ("thumb", photo.thumb_key)):
        status, image = fetch(client, url(app, "evidence.photo", photo_id=photo_id, size=size))
        assert status == 200, size
        plain = stored(app, key)
        assert_blurred(image, plain, [FACE, PLATE], plain.width / photo.width)
    # the original: admins only
    assert fetch(client, url(app, "evidence.photo", photo_id=photo_id, size="original"))[0] == 404
    assert fetch(login_as("other_evaluator"), url(app, "evidence.photo", photo_id=photo_id, size="original"))[0] == 404
    assert fetch(login_as("evaluator"), url(app, "evidence.photo", photo_id=photo_id, size="original"))[0] == 404
    status, original = fetch(login_as("admin"), url(app, "evidence.photo", photo_id=photo_id, size="original"))
    assert status == 200 and original.size == (1200, 900)
    # reports and PDFs read the blurred report size
    with app.app_context():
        from audit_app.reports.queries.base import _photos_for

        (entry,) = _photos_for([(visit_id, None)])[(visit_id, None)]
        assert entry["url"] == "storage:" + photo.redacted_report_key


def test_a_photo_not_blurred_yet_is_not_shown_to_the_client_nor_in_reports(app, login_as, visit_id, monkeypatch):
    monkeypatch.setattr(jobs, "submit", lambda app, photo_id: None)  # the job has not run yet
    photo_id = upload(app, login_as, visit_id)
    set_status(app, visit_id, "approved")
    assert photo_row(app, photo_id).redaction_state == "pending"
    for size in ("report", "thumb", "original"):
        assert login_as("client").get(url(app, "evidence.photo", photo_id=photo_id, size=size)).status_code == 404
    assert login_as("admin").get(url(app, "evidence.photo", photo_id=photo_id, size="report")).status_code == 200
    with app.app_context():
        from audit_app.reports.queries.base import _photos_for

        assert _photos_for([(visit_id, None)]) == {}


def test_an_admin_draws_a_region_and_removing_one_restores_its_pixels(app, login_as, visit_id, store):
    photo_id = upload(app, login_as, visit_id)
    jobs.drain()
    admin = login_as("admin")
    regions_url = url(app, "evidence.regions", photo_id=photo_id)
    drawn = (300, 600, 200, 150)  # nothing detected there
    response = admin.post_json(regions_url, {"add": [{"kind": "other", "x": drawn[0], "y": drawn[1],
                                                      "w": drawn[2], "h": drawn[3]}]})
    assert response.status_code == 200, response.data
    assert response.get_json()["state"] == "pending"
    jobs.drain()
    photo = photo_row(app, photo_id)
    assert photo.redaction_state == "done" and len(photo.regions) == 3
    plain = stored(app, photo.report_key)
    scale = plain.width / photo.width
    assert_blurred(stored(app, photo.redacted_report_key), plain, [FACE, PLATE, drawn], scale)

    face = next(r for r in photo.regions if r["kind"] == "face")
    assert admin.post_json(regions_url, {"remove": [face["id"]]}).status_code == 200
    jobs.drain()
    photo = photo_row(app, photo_id)
    redacted = stored(app, photo.redacted_report_key)
    restored = np.abs(box_pixels(redacted, FACE, scale) - box_pixels(plain, FACE, scale))
    assert restored.mean() < 2.5  # the face is as in the unblurred version again
    assert_blurred(redacted, plain, [PLATE, drawn], scale)
    # each change is in the visit's audit trail
    with app.app_context():
        events = db.session.query(AuditEvent).filter_by(visit_id=visit_id, action="redaction").order_by(
            AuditEvent.id).all()
        assert [(e.field, bool(e.old_value), bool(e.new_value)) for e in events] == [
            (f"photo:{photo_id}", False, True), (f"photo:{photo_id}", True, False)]
        assert [r["kind"] for r in events[1].old_value] == ["face"]
    # the trail reads in words: which kind, how large, added or removed
    trail = admin.get(f"/admin/visits/{visit_id}/review").get_data(as_text=True)
    assert "Removed: Face (" in trail or "Poistettu: Kasvot (" in trail


def test_bad_region_changes_are_refused_with_a_message(app, login_as, visit_id):
    photo_id = upload(app, login_as, visit_id)
    jobs.drain()
    admin = login_as("admin")
    regions_url = url(app, "evidence.regions", photo_id=photo_id)
    for payload in ({"add": [{"x": "a", "y": 1, "w": 10, "h": 10}]}, {"add": [{"x": 5000, "y": 1, "w": 10, "h": 10}]},
                    {"add": [{"x": 1, "y": 1, "w": 2, "h": 2}]}, {"remove": ["nope"]}, {"add": "x"}, [1]):
        response = admin.post_json(regions_url, payload)
        assert response.status_code == 400 and response.get_json()["error"], payload
    assert len(photo_row(app, photo_id).regions) == 2
    # clients and evaluators cannot change regions
    assert login_as("client").post_json(regions_url, {"remove": []}).status_code == 403
    assert login_as("evaluator").post_json(regions_url, {"remove": []}).status_code == 403


def approve(app, browser, visit_id):
    return browser.post(url(app, "submissions.approve", visit_id=visit_id), {})


def test_approval_waits_for_redaction(app, login_as, visit_id, monkeypatch):
    queued = []
    monkeypatch.setattr(jobs, "submit", lambda app, photo_id: queued.append(photo_id))
    upload(app, login_as, visit_id)
    set_status(app, visit_id, "submitted")
    admin = login_as("admin")
    response = approve(app, admin, visit_id)
    assert response.status_code == 409
    assert "still being blurred" in response.get_data(as_text=True)
    from audit_app.visits.models import Visit

    with app.app_context():
        assert db.session.get(Visit, visit_id).status == "submitted"
        assert jobs.redact(queued[0]) == "done"
    assert approve(app, admin, visit_id).status_code == 302
    with app.app_context():
        assert db.session.get(Visit, visit_id).status == "approved"


def test_a_failing_redaction_is_retried_and_then_reported(app, login_as, visit_id, monkeypatch):
    from audit_app.evidence import detection

    app.config["REDACTION_RETRY_DELAYS"] = (0, 0)
    real_detect = detection.detect
    calls = []

    def flaky(image, *a, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("the worker lost its disk")
        return real_detect(image, *a, **kw)

    try:
        monkeypatch.setattr(detection, "detect", flaky)
        photo_id = upload(app, login_as, visit_id)
        jobs.drain()
        photo = photo_row(app, photo_id)
        assert photo.redaction_state == "done" and photo.redaction_attempts == 1 and len(calls) == 2

        def broken(image, *a, **kw):
            raise RuntimeError("model file damaged")

        monkeypatch.setattr(detection, "detect", broken)
        photo_id = upload(app, login_as, visit_id, known_photo()[:-1] + b"\xd9")
        jobs.drain()
        photo = photo_row(app, photo_id)
        assert photo.redaction_state == "failed" and photo.redaction_attempts == 3
        assert "model file damaged" in photo.redaction_error
        set_status(app, visit_id, "submitted")
        admin = login_as("admin")
        page = admin.get(url(app, "submissions.review", visit_id=visit_id)).get_data(as_text=True)
        assert "Blurring failed" in page and "model file damaged" in page and "Try blurring again" in page
        assert approve(app, admin, visit_id).status_code == 409

        monkeypatch.setattr(detection, "detect", real_detect)
        retry = admin.post(url(app, "evidence.redaction_retry", photo_id=photo_id), {})
        assert retry.status_code == 302
        jobs.drain()
        photo = photo_row(app, photo_id)
        assert photo.redaction_state == "done" and photo.redaction_error == ""
        assert approve(app, admin, visit_id).status_code == 302
    finally:
        app.config.pop("REDACTION_RETRY_DELAYS", None)


def test_an_rq_job_redacts_the_photo(app, login_as, visit_id, monkeypatch):
    """With REDIS_URL the upload queues ``redact_job`` on the evidence queue; the job does the work."""
    enqueued = []

    class FakeQueue:
        def enqueue(self, func, *args, **kw):
            enqueued.append((func, args))

    monkeypatch.setattr(jobs, "_rq_queue", lambda app: FakeQueue())
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        photo_id = upload(app, login_as, visit_id)
    finally:
        app.config.pop("REDIS_URL")
    assert enqueued == [(jobs.redact_job, (photo_id,))]
    with app.app_context():
        jobs.redact_job(photo_id)
    assert photo_row(app, photo_id).redaction_state == "done"


def test_blurring_can_be_turned_off_for_a_client(app, login_as, visit_id, world):
    from audit_app.accounts.models import Client

    admin = login_as("admin")
    with app.app_context():
        client_id = db.session.merge(world.client_a).id
        name = db.session.get(Client, client_id).name
    edit = url(app, "accounts.client_edit", client_id=client_id)
    assert "Blur faces and licence plates" in admin.get(edit).get_data(as_text=True)
    assert admin.post(edit, {"name": name, "active": "y"}).status_code == 302  # the box left empty
    with app.app_context():
        assert db.session.get(Client, client_id).redact_photos is False
    photo_id = upload(app, login_as, visit_id)
    jobs.drain()
    set_status(app, visit_id, "approved")
    photo = photo_row(app, photo_id)
    status, image = fetch(login_as("client"), url(app, "evidence.photo", photo_id=photo_id, size="report"))
    assert status == 200
    assert np.abs(np.asarray(image, dtype=np.float32) - np.asarray(stored(app, photo.report_key),
                                                                   dtype=np.float32)).mean() < 0.5
    assert admin.post(edit, {"name": name, "active": "y", "redact_photos": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(Client, client_id).redact_photos is True
