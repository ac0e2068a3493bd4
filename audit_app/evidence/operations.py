"""Writes of evidence photos. Operations flush; the view or command commits.

Objects are written before the row, and a row is removed before its objects, so no row ever
points at a missing object. Objects left behind by an interrupted request are found and
removed by ``find_orphans`` / the ``flask evidence cleanup`` command.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask_babel import gettext as _

from ..core.errors import DomainError, NotAllowed
from ..core.models import db, utcnow
from . import queries
from .models import Photo
from .processing import DEFAULT_CAPTURE_ZONE, DEFAULT_MAX_PIXELS, process_photo
from .redaction import KINDS, MAX_REGIONS, clamp_region, new_region
from .storage import Storage

KEY_PREFIX = "visits/"
MAX_CAPTION = 500
CLIENT_UID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MIN_REGION = 4  # pixels of the original


def _check_editable(visit) -> None:
    if not visit.editable:
        raise NotAllowed(_("This visit has been submitted, so its photos can no longer be changed."))


def _clean_caption(caption: str | None) -> str:
    caption = (caption or "").strip()
    if len(caption) > MAX_CAPTION:
        raise DomainError(
            _("The caption is too long (at most %(n)d characters).", n=MAX_CAPTION), field="caption"
        )
    return caption


def clean_client_uid(client_uid: str | None) -> str:
    if not client_uid:
        return uuid.uuid4().hex
    if not CLIENT_UID_RE.match(client_uid):
        raise DomainError(_("The upload id is not valid."), field="client_uid")
    return client_uid


def check_question(visit, question_id) -> object | None:
    """The question a photo is attached to (None: the visit as a whole)."""
    if question_id in (None, ""):
        return None
    try:
        question_id = int(question_id)
    except (TypeError, ValueError):
        raise DomainError(_("The question was not found in this visit."), field="question_id") from None
    question = queries.question_of_version(question_id, visit.checklist_version_id)
    if question is None or not question.applies_to(visit.channel):
        raise DomainError(_("The question was not found in this visit."), field="question_id")
    if question.photo == "none":
        raise DomainError(_("This question does not take photos."), field="question_id")
    return question


def photo_keys(photo: Photo) -> list[str]:
    return [k for k in (photo.storage_key, photo.report_key, photo.thumb_key, photo.redacted_report_key,
                        photo.redacted_thumb_key) if k]


def delete_objects(storage: Storage, keys: Iterable[str]) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # left for flask evidence cleanup
            pass


def add_photo(
    visit, *, data: bytes, storage: Storage, user, question_id=None, caption: str = "",
    client_uid: str | None = None, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS,
    captured_at: datetime | None = None, capture_zone: str = DEFAULT_CAPTURE_ZONE,
) -> tuple[Photo, bool]:
    """Store a photo for ``visit``. Returns ``(photo, created)``; a retried upload returns the first.

    The objects are written first, then the row is flushed; if the flush fails the objects are
    removed again. If the caller's commit fails it must call ``delete_objects(photo_keys(photo))``.
    ``captured_at``: the capture time the browser read from the original before scaling it (naive
    UTC); the time read from the file itself wins when the file still carries one.
    """
    _check_editable(visit)
    client_uid = clean_client_uid(client_uid)
    existing = queries.photo_for_upload(visit.id, client_uid)
    if existing is not None:
        return existing, False
    question = check_question(visit, question_id)
    caption = _clean_caption(caption)
    processed = process_photo(data, max_bytes=max_bytes, max_pixels=max_pixels, capture_zone=capture_zone)

    base = f"{KEY_PREFIX}{visit.id}/{uuid.uuid4().hex}/"
    versions = {
        "original": processed.original,
        "report": processed.report,
        "thumb": processed.thumb,
    }
    keys = {name: f"{base}{name}.{v.extension}" for name, v in versions.items()}
    written: list[str] = []
    try:
        for name, version in versions.items():
            storage.put(keys[name], version.data, version.content_type)
            written.append(keys[name])
        photo = Photo(
            visit_id=visit.id,
            question_id=question.id if question is not None else None,
            client_uid=client_uid,
            caption=caption,
            storage_key=keys["original"],
            report_key=keys["report"],
            thumb_key=keys["thumb"],
            content_type=processed.original.content_type,
            size_bytes=len(processed.original.data),
            width=processed.original.width,
            height=processed.original.height,
            sha256=processed.sha256,
            captured_at=processed.captured_at or captured_at,
            uploaded_by_id=user.id if user is not None else None,
            redaction_state="pending",
            redaction_queued_at=utcnow(),
        )
        db.session.add(photo)
        db.session.flush()
    except BaseException:
        delete_objects(storage, written)
        raise
    return photo, True


def update_caption(photo: Photo, caption: str | None) -> Photo:
    _check_editable(photo.visit)
    photo.caption = _clean_caption(caption)
    db.session.flush()
    return photo


def delete_photo(photo: Photo) -> list[str]:
    """Remove the row (flush). Returns its keys: delete them once the removal is committed."""
    _check_editable(photo.visit)
    keys = photo_keys(photo)
    db.session.delete(photo)
    db.session.flush()
    return keys


# --- redaction: the regions an admin corrects ---------------------------------------------------


def _clean_new_region(photo: Photo, raw) -> dict:
    if not isinstance(raw, dict):
        raise DomainError(_("The area to blur is not valid."), field="regions")
    try:
        x, y, w, h = (int(round(float(raw[k]))) for k in ("x", "y", "w", "h"))
    except (KeyError, TypeError, ValueError, OverflowError):
        raise DomainError(_("The area to blur is not valid."), field="regions") from None
    region = clamp_region({"x": x, "y": y, "w": w, "h": h}, photo.width, photo.height)
    if region is None or region["w"] < MIN_REGION or region["h"] < MIN_REGION:
        raise DomainError(_("The area to blur is too small. Draw a larger box."), field="regions")
    kind = raw.get("kind") if raw.get("kind") in KINDS else "other"
    return new_region(kind, region["x"], region["y"], region["w"], region["h"], "admin")


def change_regions(photo: Photo, *, add=(), remove=()) -> dict:
    """Add boxes an admin drew and remove boxes they judged false; the redacted versions are then made
    again (queue the photo after the commit). Returns ``{"added": [...], "removed": [...]}``."""
    if photo.regions is None:
        raise DomainError(_("The photo is still being checked for faces and licence plates. Try again in a moment."),
                          field="regions")
    if not isinstance(add, list | tuple) or not isinstance(remove, list | tuple):
        raise DomainError(_("The area to blur is not valid."), field="regions")
    current = list(photo.regions)
    remove_ids = {str(r) for r in remove}
    known = {r["id"] for r in current}
    if remove_ids - known:
        raise DomainError(_("That blurred area was not found. Reload the page."), field="regions")
    removed = [r for r in current if r["id"] in remove_ids]
    added = [_clean_new_region(photo, raw) for raw in add]
    kept = [r for r in current if r["id"] not in remove_ids] + added
    if len(kept) > MAX_REGIONS:
        raise DomainError(_("A photo can have at most %(n)d blurred areas.", n=MAX_REGIONS), field="regions")
    if not added and not removed:
        return {"added": [], "removed": []}
    photo.regions = kept
    _mark_pending(photo)
    db.session.flush()
    return {"added": added, "removed": removed}


def _mark_pending(photo: Photo) -> None:
    photo.redaction_rev = (photo.redaction_rev or 0) + 1
    photo.redaction_state = "pending"
    photo.redaction_attempts = 0
    photo.redaction_error = ""
    photo.redaction_queued_at = utcnow()


def retry_redaction(photo: Photo) -> None:
    """Queue a photo whose redaction failed (or seems stuck) again; queue it after the commit."""
    if photo.redaction_state == "done":
        return
    _mark_pending(photo)
    db.session.flush()


def find_orphans(storage: Storage, older_than_minutes: int = 60) -> list[str]:
    """Stored photo objects no row refers to, older than the grace period (in-flight uploads are young)."""
    cutoff = utcnow() - timedelta(minutes=max(0, older_than_minutes))
    known = queries.referenced_keys(KEY_PREFIX)
    return [obj.key for obj in storage.list(KEY_PREFIX) if obj.key not in known and obj.modified <= cutoff]
