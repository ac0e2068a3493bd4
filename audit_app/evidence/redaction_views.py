"""The review screen's redaction tools: the state of a photo's blurring, its areas, trying again.

Routes on the evidence blueprint (imported by ``views``). Admins only. A change of areas is
written in the visit's audit trail by ``submissions`` through the ``regions_changed`` signal.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core.access import get_for_client, roles
from ..core.errors import DomainError
from ..core.models import utcnow
from . import jobs, operations
from .forms import RetryForm
from .models import Photo
from .signals import regions_changed
from .views import bp

#: a photo pending longer than this may be queued again by hand (a process that held it was stopped)
STUCK_AFTER = timedelta(minutes=5)

STATE_LABELS = {
    "pending": _l("Blurring faces and plates…"),
    "done": _l("Faces and plates blurred"),
    "failed": _l("Blurring failed"),
}
KIND_LABELS = {"face": _l("Face"), "plate": _l("Licence plate"), "other": _l("Other area")}


@bp.app_template_global()
def regions_text(regions) -> str:
    """Blurred areas as the audit trail shows them: "Face (160 × 160 px), Licence plate (…)"."""
    if not isinstance(regions, list) or not regions:
        return "–"
    return ", ".join(f"{KIND_LABELS.get(r.get('kind'), KIND_LABELS['other'])} ({r.get('w')} × {r.get('h')} px)"
                     for r in regions if isinstance(r, dict))


def redaction_info(photo: Photo) -> dict:
    """Plain data for the review screen's editor and the JSON the editor polls."""
    state = photo.redaction_state
    stuck = state == "pending" and photo.redaction_queued_at is not None and \
        utcnow() - photo.redaction_queued_at > STUCK_AFTER
    if state == "failed":
        detail = photo.redaction_error or ""
    elif state == "pending" and photo.redaction_attempts:
        detail = _("try %(n)d of %(max)d failed: %(error)s", n=photo.redaction_attempts, max=jobs.max_attempts(),
                   error=photo.redaction_error or "")
    else:
        detail = ""
    return {
        "id": photo.id,
        "state": state,
        "state_label": str(STATE_LABELS.get(state, state)),
        "detail": detail,
        "attempts": photo.redaction_attempts,
        "max_attempts": jobs.max_attempts(),
        "error": photo.redaction_error or "",
        "can_retry": state == "failed" or stuck,
        "client_sees": bool(photo.visit.client.redact_photos),
        "regions": [
            {**r, "label": str(KIND_LABELS.get(r.get("kind"), r.get("kind"))),
             "source_label": _("found automatically") if r.get("source") == "auto" else _("drawn by hand")}
            for r in (photo.regions or [])
        ],
        "detected": photo.regions is not None,
        "width": photo.width,
        "height": photo.height,
        "rev": photo.redaction_rev,
        "original_url": url_for("evidence.photo", photo_id=photo.id, size="original"),
        "preview_url": url_for("evidence.photo", photo_id=photo.id, size="report", v=photo.redaction_rev)
        if photo.redacted else None,
        "status_url": url_for("evidence.redaction_status", photo_id=photo.id),
        "regions_url": url_for("evidence.regions", photo_id=photo.id),
        "retry_url": url_for("evidence.redaction_retry", photo_id=photo.id),
    }


@bp.route("/photos/<int:photo_id>/redaction")
@roles("admin")
def redaction_status(photo_id: int):
    return jsonify(redaction_info(get_for_client(Photo, photo_id)))


@bp.route("/photos/<int:photo_id>/regions", methods=["POST"])
@roles("admin")
def regions(photo_id: int):
    """``{"add": [{"kind", "x", "y", "w", "h"}], "remove": [region id]}`` in the original's pixels."""
    photo = get_for_client(Photo, photo_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise DomainError(_("The area to blur is not valid."), field="regions")
    change = operations.change_regions(photo, add=payload.get("add") or [], remove=payload.get("remove") or [])
    if change["added"] or change["removed"]:
        regions_changed.send(photo, user=current_user._get_current_object(), **change)
        jobs.queue_after_commit(photo.id)
    return jsonify(redaction_info(photo))


@bp.route("/photos/<int:photo_id>/redaction/retry", methods=["POST"])
@roles("admin")
def redaction_retry(photo_id: int):
    photo = get_for_client(Photo, photo_id)
    if not RetryForm().validate_on_submit():
        abort(400)
    if photo.redaction_state != "done":
        operations.retry_redaction(photo)
        jobs.queue_after_commit(photo.id)
        flash(_("The photo was queued for blurring again."), "success")
    if request.accept_mimetypes.best == "application/json":
        return jsonify(redaction_info(photo))
    return redirect(url_for("submissions.review", visit_id=photo.visit_id) + f"#photo-{photo.id}")
