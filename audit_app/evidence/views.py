"""Upload, serve, caption and delete evidence photos; the gallery helpers for templates."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, jsonify, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from ..checklists.models import tr
from ..core.access import get_for_client, public, roles
from ..core.aftercommit import after_commit, after_rollback
from ..core.errors import DomainError, render_error
from ..visits.models import Visit
from . import jobs, operations, queries
from .forms import CaptionForm, UploadForm
from .integrity import parse_browser_time, window_flag
from .models import Photo
from .processing import DEFAULT_CAPTURE_ZONE, DEFAULT_MAX_PIXELS, TooLarge
from .storage import ObjectMissing, StorageUnavailable, get_storage

bp = Blueprint("evidence", __name__)

SIZES = ("original", "report", "thumb")
PRESIGN_SECONDS = 60


@bp.errorhandler(StorageUnavailable)
def storage_unavailable(exc):
    """The store is down: a clear 503 (the form keeps the photo and sends it again), never a 500.
    The edge rolls the request back."""
    current_app.logger.warning("evidence storage unavailable: %s", exc)
    return render_error(503, _("The photo storage cannot be reached just now. The photo was not saved; "
                               "please try again in a moment."))


def _max_bytes() -> int:
    return int(current_app.config.get("MAX_UPLOAD_MB", 15)) * 1024 * 1024


def _photo_json(photo: Photo) -> dict:
    return {
        "id": photo.id,
        "caption": photo.caption,
        "question_id": photo.question_id,
        "thumb_url": url_for("evidence.photo", photo_id=photo.id, size="thumb"),
        "report_url": url_for("evidence.photo", photo_id=photo.id, size="report"),
        "update_url": url_for("evidence.update", photo_id=photo.id),
        "delete_url": url_for("evidence.delete", photo_id=photo.id),
    }


def _own_visit(visit_id: int) -> Visit:
    """The visit, for its own evaluator only (404 for anyone else)."""
    visit = get_for_client(Visit, visit_id)
    if visit.evaluator_id != current_user.id:
        abort(404)
    return visit


def _own_photo(photo_id: int) -> Photo:
    photo = get_for_client(Photo, photo_id)
    if photo.visit.evaluator_id != current_user.id:
        abort(404)
    return photo


def _read_upload(file) -> bytes:
    """The uploaded bytes, refusing (413) past the limit without reading much further."""
    limit = _max_bytes()
    data = file.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(_("The photo is too large. The limit is %(mb)d MB.", mb=limit // (1024 * 1024)), field="file")
    return data


@bp.route("/visits/<int:visit_id>/photos", methods=["POST"])
@roles("evaluator")
def upload(visit_id: int):
    visit = _own_visit(visit_id)
    limit = _max_bytes()
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        return render_error(413, _("The photo is too large. The limit is %(mb)d MB.", mb=limit // (1024 * 1024)))
    form = UploadForm(formdata=MultiDict(list(request.form.items(multi=True)) + list(request.files.items(multi=True))))
    file = form.file.data
    if file is None or not hasattr(file, "stream"):
        raise DomainError(_("Choose a photo to upload."), field="file")
    data = _read_upload(file)
    storage = get_storage()
    try:
        photo, created = operations.add_photo(
            visit, data=data, storage=storage, user=current_user, question_id=form.question_id.data,
            caption=form.caption.data, client_uid=form.client_uid.data, max_bytes=limit,
            max_pixels=int(current_app.config.get("MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS)),
            captured_at=parse_browser_time(form.captured_at.data),
            capture_zone=current_app.config.get("CAPTURE_TIMEZONE", DEFAULT_CAPTURE_ZONE),
        )
    except IntegrityError:
        # The same upload arrived twice at once and the other request is storing it. A 503 rolls
        # this one back at the edge; the form sends the photo again and then gets the stored one.
        response = jsonify({"error": _("This photo is still being saved. It will be sent again in a moment.")})
        response.headers["Retry-After"] = "2"
        return response, 503
    if created:
        # the objects are written already: if the row does not commit, they go again
        keys = operations.photo_keys(photo)
        after_rollback(lambda: operations.delete_objects(storage, keys))
        jobs.queue_after_commit(photo.id)  # faces and plates are found and blurred in the background
    return jsonify(_photo_json(photo)), 201 if created else 200


def served_key(photo: Photo, size: str, user) -> str | None:
    """The stored object ``user`` gets for ``size`` of ``photo``, or None (404).

    Admins: everything; the report size and thumbnail are the redacted ones once they are ready
    (the review screen's editor shows the original with its areas); the original is theirs alone.
    The photo's own evaluator: the scaled versions they took, unblurred (their form shows them
    before blurring is done). Clients: only the redacted versions, and nothing until they are
    ready, unless their organisation has turned blurring off.
    """
    redacted = {"report": photo.redacted_report_key, "thumb": photo.redacted_thumb_key}
    plain = {"original": photo.storage_key, "report": photo.report_key, "thumb": photo.thumb_key}
    if user.is_authenticated and user.is_admin:
        return redacted[size] if size != "original" and photo.redacted else plain[size]
    if size == "original":
        return None
    if user.is_authenticated and user.is_evaluator and photo.visit.evaluator_id == user.id:
        return plain[size]
    if not photo.visit.client.redact_photos:
        return plain[size]
    return redacted[size] if photo.redacted else None


@bp.route("/photos/<int:photo_id>/<any(original, report, thumb):size>")
@public
def photo(photo_id: int, size: str):
    # public so that an anonymous visitor gets the same 404 as everyone who may not see it
    photo = get_for_client(Photo, photo_id)
    if size not in SIZES:
        abort(404)
    key = served_key(photo, size, current_user)
    if key is None:
        abort(404)
    content_type = photo.content_type if key == photo.storage_key else "image/jpeg"
    storage = get_storage()
    filename = f"photo-{photo.id}-{size}.{key.rsplit('.', 1)[-1]}"
    url = storage.presigned_url(key, expires=PRESIGN_SECONDS, filename=filename)
    if url:
        response = redirect(url, code=302)
        response.headers["Cache-Control"] = "no-store"
        return response
    try:
        data = storage.get(key)
    except ObjectMissing:
        abort(404)
    response = Response(data, mimetype=content_type)
    # the same URL serves new pixels when the blurred areas change: the browser asks again each time
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["ETag"] = f'"{key.rsplit("/", 2)[-2]}-{key.rsplit("/", 1)[-1]}"'
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response.make_conditional(request)


@bp.route("/photos/<int:photo_id>/caption", methods=["POST"])
@roles("evaluator")
def update(photo_id: int):
    photo = _own_photo(photo_id)
    payload = request.get_json(silent=True)
    form = CaptionForm(formdata=MultiDict(payload) if isinstance(payload, dict) else None)
    operations.update_caption(photo, form.caption.data)
    return jsonify(_photo_json(photo))


@bp.route("/photos/<int:photo_id>/delete", methods=["POST"])
@roles("evaluator")
def delete(photo_id: int):
    photo = _own_photo(photo_id)
    keys = operations.delete_photo(photo)
    storage = get_storage()
    after_commit(lambda: operations.delete_objects(storage, keys))  # the row first, then its objects
    return jsonify({"deleted": photo_id})


# --- helpers for templates -----------------------------------------------------------------

def evidence_assets() -> Markup:
    """The widget's stylesheet and script, once per page however many widgets it has."""
    if g.get("_evidence_assets"):
        return Markup("")
    g._evidence_assets = True
    css = url_for("static", filename="css/evidence.css")
    js = url_for("static", filename="js/evidence.js")
    capture = url_for("static", filename="js/offline-capture.js")  # read before scaling (issue 15)
    return Markup(f'<link rel="stylesheet" href="{css}">\n<script src="{capture}" defer></script>\n'
                  f'<script src="{js}" defer></script>')


def evidence_question_photos(visit, question=None) -> list[Photo]:
    groups = queries.photos_by_question(visit.id)
    return groups.get(question.id if question is not None else None, [])


def evidence_photo_groups(visit) -> list[dict]:
    """Plain rows for the read-only gallery: a heading and the photos of each question."""
    language = str(get_locale() or "fi")
    rows = []
    for group in queries.photo_groups(visit.id):
        if group.question is None:
            heading = _("The visit as a whole")
            section = ""
        else:
            heading = tr(group.question.prompt, language)
            section = tr(group.section.title, language) if group.section else ""
        rows.append({
            "heading": heading,
            "section": section,
            "photos": [
                {
                    "id": p.id,
                    "caption": p.caption,
                    "captured_at": p.captured_at,
                    "width": p.width,
                    "height": p.height,
                    "thumb_url": url_for("evidence.photo", photo_id=p.id, size="thumb"),
                    "report_url": url_for("evidence.photo", photo_id=p.id, size="report"),
                    "original_url": url_for("evidence.photo", photo_id=p.id, size="original"),
                }
                for p in group.photos
            ],
        })
    return rows


@bp.app_context_processor
def evidence_template_helpers():
    return {
        "evidence_assets": evidence_assets,
        "evidence_question_photos": evidence_question_photos,
        "evidence_photo_groups": evidence_photo_groups,
        "evidence_max_upload_mb": current_app.config.get("MAX_UPLOAD_MB", 15),
        "redaction_info": redaction_info,
        "capture_flag": capture_flag,
        "redaction_assets": redaction_assets,
        "redaction_waiting": redaction_waiting,
    }


def redaction_waiting(visit) -> list[int]:
    """Ids of the visit's photos not blurred yet, when its client gets blurred photos (the review
    screen says so beside Approve: approval waits for them)."""
    return queries.unredacted_ids(visit.id) if visit.client.redact_photos else []


def capture_flag(photo: Photo) -> dict:
    """Whether ``photo`` was taken in its visit's window, in words (the review screen)."""
    visit = photo.visit
    return window_flag(photo.captured_at, visit.started_at, visit.submitted_at)


def redaction_assets() -> Markup:
    """The review screen's redaction editor: its stylesheet and script, once per page."""
    if g.get("_redaction_assets"):
        return Markup("")
    g._redaction_assets = True
    css = url_for("static", filename="css/evidence.css")
    js = url_for("static", filename="js/redaction.js")
    return Markup(f'<link rel="stylesheet" href="{css}">\n<script src="{js}" defer></script>')


from .redaction_views import redaction_info  # noqa: E402  (its routes join this blueprint)
