"""Evidence photos through the routes: upload, serving, access, captions, deletion, cleanup."""

from __future__ import annotations

import io
import urllib.request

import pytest
from flask import url_for
from PIL import Image
from sqlalchemy import select

from audit_app.checklists.models import Question
from audit_app.evidence import jobs, operations, queries
from audit_app.evidence.models import Photo
from audit_app.evidence.storage import EXTENSION_KEY, get_storage
from audit_app.extensions import db
from tests.factories import (
    jpeg_bytes,
    make_photo,
    make_version,
    make_visit,
    png_header_claiming,
    rotated_jpeg_with_gps,
)
from tests.helpers import RULES, expected_access


@pytest.fixture(autouse=True)
def _each_test_starts_with_no_photos(empty_storage):
    pass


@pytest.fixture
def ids(app, world):
    """A visit of client A by the evaluator (in progress) with its questions, committed.

    The evaluator reads English here, so that messages can be checked by their words.
    """
    with app.app_context():
        version = make_version()
        evaluator = db.session.merge(world.evaluator)
        visit = make_visit(db.session.merge(world.client_a), evaluator, version, status="in_progress")
        evaluator.language = "en"
        questions = {q.key: q.id for q in version.questions()}
        db.session.commit()
        return {"visit": visit.id, "version": version.id, **questions}


def upload_url(app, visit_id):
    with app.test_request_context():
        return url_for("evidence.upload", visit_id=visit_id)


def send(browser, url, data: bytes | None = None, filename="photo.jpg", **fields):
    form = {k: v for k, v in fields.items() if v is not None}
    if data is not None:
        form["file"] = (io.BytesIO(data), filename)
    return browser.post(url, form, content_type="multipart/form-data", headers={"Accept": "application/json"})


def set_status(app, visit_id, status):
    from audit_app.visits.models import Visit

    with app.app_context():
        db.session.get(Visit, visit_id).status = status
        db.session.commit()


def stored_keys(app):
    with app.app_context():
        return sorted(get_storage().keys("visits/"))


def photo_row(app, photo_id):
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        if photo is not None:
            db.session.expunge(photo)
        return photo


# --- upload ---------------------------------------------------------------------------------------

def test_evaluator_uploads_a_photo_to_a_question(app, login_as, ids):
    eva = login_as("evaluator")
    response = send(eva, upload_url(app, ids["visit"]), rotated_jpeg_with_gps(), question_id=ids["q5"],
                    caption="Screen visible from the queue", client_uid="a" * 32)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["caption"] == "Screen visible from the queue" and body["thumb_url"].endswith("/thumb")
    photo = photo_row(app, body["id"])
    assert photo.question_id == ids["q5"] and photo.visit_id == ids["visit"]
    assert (photo.width, photo.height) == (40, 80) and photo.content_type == "image/jpeg"
    assert photo.captured_at.isoformat() == "2025-03-14T07:26:53"  # 09:26:53 in Helsinki (no offset), in UTC
    assert photo.storage_key.startswith(f"visits/{ids['visit']}/") and photo.storage_key.endswith("/original.jpg")
    with app.app_context():
        storage = get_storage()
        original = storage.get(photo.storage_key)
        import hashlib

        assert hashlib.sha256(original).hexdigest() == photo.sha256 and len(original) == photo.size_bytes
        for key in (photo.storage_key, photo.report_key, photo.thumb_key):
            data = storage.get(key)
            assert b"GPS" not in data and b"Exif" not in data and not Image.open(io.BytesIO(data)).getexif()
        assert queries.photo_counts(ids["visit"]) == {ids["q5"]: 1}
        assert [p.id for p in queries.photos_by_question(ids["visit"])[ids["q5"]]] == [body["id"]]


def test_a_retried_upload_returns_the_same_photo(app, login_as, ids):
    eva = login_as("evaluator")
    url = upload_url(app, ids["visit"])
    first = send(eva, url, jpeg_bytes(), client_uid="retry-" + "b" * 20)
    again = send(eva, url, jpeg_bytes(), client_uid="retry-" + "b" * 20)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["id"] == again.get_json()["id"]
    jobs.drain()
    assert len(stored_keys(app)) == 5  # one photo: three versions and its two blurred ones


def test_a_photo_of_the_visit_as_a_whole(app, login_as, ids):
    response = send(login_as("evaluator"), upload_url(app, ids["visit"]), jpeg_bytes(), caption="Entrance")
    assert response.status_code == 201
    with app.app_context():
        assert queries.photo_counts(ids["visit"]) == {None: 1}


@pytest.mark.parametrize("data,filename,status,words", [
    (b"just some text, honestly", "notes.jpg", 400, "JPEG, PNG or WebP"),
    (b"", "empty.jpg", 400, "empty"),
    (png_header_claiming(100_000, 100_000), "bomb.png", 400, "pixels"),
    (None, None, 400, "Choose a photo"),
])
def test_bad_files_get_a_clear_json_error_and_nothing_is_stored(app, login_as, ids, data, filename, status, words):
    response = send(login_as("evaluator"), upload_url(app, ids["visit"]), data, filename=filename)
    assert response.status_code == status
    assert words in response.get_json()["error"]
    assert stored_keys(app) == []
    with app.app_context():
        assert queries.photos_for_visit(ids["visit"]) == []


def test_an_oversized_upload_is_a_413_the_form_can_show(app, login_as, ids, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    big = jpeg_bytes() + b"\0" * (1024 * 1024 + 10)
    response = send(login_as("evaluator"), upload_url(app, ids["visit"]), big)
    assert response.status_code == 413 and "1 MB" in response.get_json()["error"]
    assert stored_keys(app) == []


def test_an_oversized_upload_without_json_gets_a_page_not_a_crash(app, login_as, ids, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    eva = login_as("evaluator")
    response = eva.post(upload_url(app, ids["visit"]), {"file": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "a.jpg")},
                        content_type="multipart/form-data")
    assert response.status_code == 413 and b"<html" in response.data


def test_question_rules(app, login_as, ids):
    eva = login_as("evaluator")
    url = upload_url(app, ids["visit"])
    no_photos = send(eva, url, jpeg_bytes(), question_id=ids["q1"])
    assert no_photos.status_code == 400 and "does not take photos" in no_photos.get_json()["error"]
    with app.app_context():
        other = make_version()
        foreign_question = other.questions()[4].id
        db.session.commit()
    foreign = send(eva, url, jpeg_bytes(), question_id=foreign_question)
    assert foreign.status_code == 400 and "not found" in foreign.get_json()["error"]
    assert send(eva, url, jpeg_bytes(), question_id="abc").status_code == 400
    assert send(eva, url, jpeg_bytes(), question_id=ids["q5"], caption="x" * 501).status_code == 400
    assert send(eva, url, jpeg_bytes(), client_uid="../../etc").status_code == 400
    assert stored_keys(app) == []


def test_no_uploads_once_the_visit_is_submitted(app, login_as, ids):
    set_status(app, ids["visit"], "submitted")
    response = send(login_as("evaluator"), upload_url(app, ids["visit"]), jpeg_bytes())
    assert response.status_code == 409 and response.get_json()["error"]
    set_status(app, ids["visit"], "returned")  # returned to the evaluator: editable again
    assert send(login_as("evaluator"), upload_url(app, ids["visit"]), jpeg_bytes()).status_code == 201


def test_only_the_visits_evaluator_may_upload(app, login_as, ids):
    url = upload_url(app, ids["visit"])
    assert send(login_as("other_evaluator"), url, jpeg_bytes()).status_code == 404
    assert send(login_as("admin"), url, jpeg_bytes()).status_code == 403
    assert send(login_as("client"), url, jpeg_bytes()).status_code == 403
    assert send(login_as("evaluator"), upload_url(app, 999999), jpeg_bytes()).status_code == 404
    assert stored_keys(app) == []


def test_upload_without_csrf_is_refused(app, login_as, ids):
    eva = login_as("evaluator")
    response = eva.post(upload_url(app, ids["visit"]), {"file": (io.BytesIO(jpeg_bytes()), "a.jpg")}, csrf=False,
                        content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert response.status_code == 400 and stored_keys(app) == []


# --- consistency ----------------------------------------------------------------------------------

def test_if_the_row_cannot_be_written_the_objects_are_removed(app, world, monkeypatch):
    with app.app_context():
        visit = make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator), make_version())
        db.session.commit()

        def broken_flush(*args, **kwargs):
            raise RuntimeError("database went away")

        monkeypatch.setattr(db.session, "flush", broken_flush)
        with pytest.raises(RuntimeError):
            make_photo(visit, world.evaluator)
        monkeypatch.undo()
        db.session.rollback()
        assert list(get_storage().keys("visits/")) == []


def test_every_row_points_at_stored_objects(app, login_as, ids):
    eva = login_as("evaluator")
    for i in range(3):
        assert send(eva, upload_url(app, ids["visit"]), jpeg_bytes(color=(i * 50, 0, 0))).status_code == 201
    with app.app_context():
        storage = get_storage()
        for photo in queries.photos_for_visit(ids["visit"]):
            assert all(storage.exists(k) for k in operations.photo_keys(photo))


def test_cleanup_command_removes_only_old_unreferenced_objects(app, world):
    with app.app_context():
        visit = make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator), make_version())
        photo = make_photo(visit, world.evaluator)
        db.session.commit()
        kept = operations.photo_keys(photo)
        storage = get_storage()
        storage.put("visits/9999/interrupted/original.jpg", b"half an upload", "image/jpeg")
        storage.put("reports/1/report.pdf", b"%PDF", "application/pdf")  # not the command's business
    runner = app.test_cli_runner()
    fresh = runner.invoke(args=["evidence", "cleanup"])
    assert fresh.exit_code == 0 and "0 unreferenced" in fresh.output  # within the grace period
    dry = runner.invoke(args=["evidence", "cleanup", "--dry-run", "--older-than-minutes", "0"])
    assert "visits/9999/interrupted/original.jpg" in dry.output and "1 unreferenced object(s) would be" in dry.output
    assert not any(k in dry.output for k in kept)
    with app.app_context():
        assert get_storage().exists("visits/9999/interrupted/original.jpg")
    real = runner.invoke(args=["evidence", "cleanup", "--older-than-minutes", "0"])
    assert real.exit_code == 0 and "1 unreferenced object(s) removed" in real.output
    with app.app_context():
        storage = get_storage()
        assert not storage.exists("visits/9999/interrupted/original.jpg")
        assert all(storage.exists(k) for k in kept) and storage.exists("reports/1/report.pdf")
        storage.delete("reports/1/report.pdf")


# --- serving and access ---------------------------------------------------------------------------

def photo_url(app, photo_id, size="thumb"):
    with app.test_request_context():
        return url_for("evidence.photo", photo_id=photo_id, size=size)


@pytest.fixture
def photo_id(app, login_as, ids):
    response = send(login_as("evaluator"), upload_url(app, ids["visit"]),
                    png_bytes_with_alpha(), question_id=ids["q5"], caption="Open screen")
    assert response.status_code == 201
    return response.get_json()["id"]


def png_bytes_with_alpha() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (50, 30), (10, 20, 30, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_each_size_comes_with_its_content_type(app, login_as, photo_id):
    """The evaluator gets the scaled versions of their own photo; the original is the admin's alone."""
    eva, admin = login_as("evaluator"), login_as("admin")
    assert eva.get(photo_url(app, photo_id, "original")).status_code == 404
    for who, size, content_type in ((admin, "original", "image/png"), (eva, "report", "image/jpeg"),
                                    (eva, "thumb", "image/jpeg")):
        response = who.get(photo_url(app, photo_id, size))
        assert response.status_code == 200 and response.content_type == content_type
        assert "private" in response.headers["Cache-Control"]
        Image.open(io.BytesIO(response.data)).verify()
    assert eva.get(f"/photos/{photo_id}/huge").status_code == 404


def test_who_may_see_a_photo(app, login_as, ids, photo_id):
    url = photo_url(app, photo_id)
    assert login_as("admin").get(url).status_code == 200
    for role in ("anonymous", "other_evaluator", "other_client", "client"):  # the client: not approved yet
        assert login_as(role).get(url).status_code == 404, role
    set_status(app, ids["visit"], "approved")
    jobs.drain()  # the client gets the blurred version only, once it is made
    assert login_as("client").get(url).status_code == 200
    for role in ("anonymous", "other_evaluator", "other_client"):
        assert login_as(role).get(url).status_code == 404, role
    assert login_as("evaluator").get(photo_url(app, 987654)).status_code == 404  # a guessed id


def test_on_s3_the_photo_is_served_through_a_short_lived_presigned_url(app, login_as, ids, s3_endpoint):
    from tests.conftest import make_s3_storage

    s3 = make_s3_storage(s3_endpoint)
    saved = app.extensions.get(EXTENSION_KEY)
    app.extensions[EXTENSION_KEY] = s3
    try:
        eva = login_as("evaluator")
        created = send(eva, upload_url(app, ids["visit"]), jpeg_bytes(), question_id=ids["q5"])
        assert created.status_code == 201
        pid = created.get_json()["id"]
        response = eva.get(photo_url(app, pid, "report"))
        assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"
        location = response.headers["Location"]
        assert location.startswith(s3_endpoint) and "X-Amz-Expires=60" in location
        with urllib.request.urlopen(location, timeout=5) as fetched:
            assert Image.open(io.BytesIO(fetched.read())).format == "JPEG"
        assert login_as("other_client").get(photo_url(app, pid)).status_code == 404
        assert login_as("anonymous").get(photo_url(app, pid)).status_code == 404
        with app.app_context():
            photo = db.session.get(Photo, pid)
            assert s3.exists(photo.storage_key) and s3.exists(photo.thumb_key)
    finally:
        app.extensions[EXTENSION_KEY] = saved


# --- caption and delete ---------------------------------------------------------------------------

def test_caption_edit(app, login_as, photo_id):
    with app.test_request_context():
        url = url_for("evidence.update", photo_id=photo_id)
    eva = login_as("evaluator")
    response = eva.post_json(url, {"caption": "  Customer data on the screen  "})
    assert response.status_code == 200 and response.get_json()["caption"] == "Customer data on the screen"
    assert eva.post_json(url, {"caption": "x" * 501}).status_code == 400
    assert photo_row(app, photo_id).caption == "Customer data on the screen"
    assert login_as("other_evaluator").post_json(url, {"caption": "mine"}).status_code == 404


def test_delete_a_draft_photo_removes_its_objects(app, login_as, ids, photo_id):
    with app.test_request_context():
        url = url_for("evidence.delete", photo_id=photo_id)
    keys = operations.photo_keys(photo_row(app, photo_id))
    assert login_as("other_evaluator").post_json(url, {}).status_code == 404
    assert login_as("admin").post_json(url, {}).status_code == 403
    response = login_as("evaluator").post_json(url, {})
    assert response.status_code == 200
    assert photo_row(app, photo_id) is None
    with app.app_context():
        assert not any(get_storage().exists(k) for k in keys)


def _commit_fails_once(app, monkeypatch, path):
    """The commit at the edge of the first POST to ``path`` fails (the database went away);
    every other commit works. The app answers 500 as in production instead of raising."""
    from flask import has_request_context, request

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    real_commit = db.session.commit
    failed = []

    def commit():
        if not failed and has_request_context() and request.method == "POST" and request.path == path:
            failed.append(True)
            raise RuntimeError("the database went away at commit")
        return real_commit()

    monkeypatch.setattr(db.session, "commit", commit)
    return failed


def test_an_upload_whose_commit_fails_leaves_no_objects(app, login_as, ids, monkeypatch):
    eva = login_as("evaluator")
    failed = _commit_fails_once(app, monkeypatch, upload_url(app, ids["visit"]))
    app.logger.disabled = True  # the 500 is the point; its traceback is noise
    try:
        response = send(eva, upload_url(app, ids["visit"]), jpeg_bytes(), client_uid="c" * 20)
    finally:
        app.logger.disabled = False
    monkeypatch.undo()
    assert failed and response.status_code == 500
    assert stored_keys(app) == []  # the objects went with the row that was rolled back
    with app.app_context():
        assert queries.photos_for_visit(ids["visit"]) == []
    again = send(eva, upload_url(app, ids["visit"]), jpeg_bytes(), client_uid="c" * 20)
    jobs.drain()  # the blurred versions are made after the commit, on another thread
    assert again.status_code == 201 and len(stored_keys(app)) == 5


def test_a_deletion_whose_commit_fails_keeps_the_objects(app, login_as, ids, photo_id, monkeypatch):
    with app.test_request_context():
        url = url_for("evidence.delete", photo_id=photo_id)
    keys = operations.photo_keys(photo_row(app, photo_id))
    eva = login_as("evaluator")
    failed = _commit_fails_once(app, monkeypatch, url)
    app.logger.disabled = True
    try:
        assert eva.post_json(url, {}).status_code == 500 and failed
    finally:
        app.logger.disabled = False
    monkeypatch.undo()
    assert photo_row(app, photo_id) is not None  # the row stays, and so do the objects it names
    with app.app_context():
        assert all(get_storage().exists(k) for k in keys)


def test_photos_of_a_submitted_visit_cannot_be_changed(app, login_as, ids, photo_id):
    set_status(app, ids["visit"], "submitted")
    eva = login_as("evaluator")
    with app.test_request_context():
        delete_url = url_for("evidence.delete", photo_id=photo_id)
        update_url = url_for("evidence.update", photo_id=photo_id)
    assert eva.post_json(delete_url, {}).status_code == 409
    assert eva.post_json(update_url, {"caption": "later"}).status_code == 409
    assert photo_row(app, photo_id).caption == "Open screen"
    jobs.drain()
    assert len(stored_keys(app)) == 5  # original, report, thumbnail and the two blurred versions


# --- templates ------------------------------------------------------------------------------------

def render(app, source, user_id=None, **context):
    from flask import render_template_string
    from flask_login import login_user

    from audit_app.accounts.models import User

    with app.test_request_context():
        if user_id:
            login_user(db.session.get(User, user_id))
        return render_template_string(source, **context)


def test_question_widget_opens_the_camera_and_lists_the_photos(app, world, ids, photo_id):
    with app.app_context():
        from audit_app.visits.models import Visit

        visit = db.session.get(Visit, ids["visit"])
        question = db.session.get(Question, ids["q5"])
        html = render(app, '{% include "evidence/_question_photos.html" %}{% include "evidence/_question_photos.html" %}',
                      world.ids["evaluator"], visit=visit, question=question)
    assert html.count('capture="environment"') == 2 and 'accept="image/*"' in html and " multiple" in html
    assert html.count("js/evidence.js") == 1  # the assets once per page
    assert f'data-photo-id="{photo_id}"' in html and 'value="Open screen"' in html
    file_input = html[html.index('class="ev-file"') - 200: html.index('class="ev-file"') + 120]
    assert "name=" not in file_input  # never submitted with the answers
    assert 'type="button"' in html and 'type="submit"' not in html


def test_visit_widget_and_review_gallery(app, world, ids, photo_id, login_as):
    send(login_as("evaluator"), upload_url(app, ids["visit"]), jpeg_bytes(), caption="The lobby")
    with app.app_context():
        from audit_app.visits.models import Visit

        visit = db.session.get(Visit, ids["visit"])
        widget = render(app, '{% include "evidence/_visit_photos.html" %}', world.ids["evaluator"], visit=visit)
        assert 'value="The lobby"' in widget and 'value="Open screen"' not in widget
        gallery = render(app, '{% include "evidence/_review_photos.html" %}', world.ids["admin"], visit=visit)
        empty_visit = make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator), make_version())
        empty = render(app, '{% include "evidence/_review_photos.html" %}', world.ids["admin"], visit=empty_visit)
        db.session.rollback()
    assert "Open screen" in gallery and "The lobby" in gallery
    assert photo_url(app, photo_id) in gallery and "Were screens hidden from others?" in gallery or \
        "Were screens hidden from others? (fi)" in gallery
    assert "ev-file" not in gallery  # read-only
    assert "ev-gallery-item" not in empty


# --- the route table (tests/routes_evidence.py) -----------------------------------------------------

@pytest.mark.parametrize("role", ["anonymous", "admin", "evaluator", "other_evaluator", "client", "other_client"])
def test_evidence_routes_behave_as_declared(app, world, login_as, role):
    browser = login_as(role)
    for endpoint, (rule, make_args, *rest) in RULES.items():
        if not endpoint.startswith("evidence."):
            continue
        with app.app_context():
            kwargs = make_args(world)
        with app.test_request_context():
            url = url_for(endpoint, **kwargs)
        methods = next(r.methods for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        response = browser.get(url) if "GET" in methods else browser.post(url, {})
        expected = (rest[0] if rest else {}).get(role, expected_access(rule, role))
        if isinstance(expected, int):
            assert response.status_code == expected, (endpoint, role)
        elif expected == "login":
            assert response.status_code == 302 and "/login" in response.headers["Location"], (endpoint, role)
        elif expected == "forbidden":
            assert response.status_code == 403, (endpoint, role)
        else:
            assert response.status_code < 500 and response.status_code not in (401, 403, 404), (endpoint, role)


def test_question_ids_in_the_table_are_real(app, ids):
    with app.app_context():
        q5 = db.session.scalar(select(Question).where(Question.id == ids["q5"]))
        assert q5.photo == "allowed"
