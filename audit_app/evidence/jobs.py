"""Redaction in the background: an RQ job when ``REDIS_URL`` is set, a worker thread otherwise.

A photo is queued once the request that stored it (or changed its regions) has committed
(``core.aftercommit``), so the job never looks for a row that is not there yet. The job owns its
commits. It reads the stored original, runs the detector the first time (the regions are kept;
an admin's changes are never detected over again), makes the redacted versions from the
original and the regions, stores them under new keys, and then records them only if nothing
changed meanwhile (the photo's ``redaction_rev`` and original key are compared in the UPDATE): a
newer change has queued a newer job, and this one's objects are removed again.

A failing try is retried (``REDACTION_RETRY_DELAYS`` seconds apart); each failure is written on the
photo (attempts, error) where the review screen shows it, and after the last try the photo is
``failed`` — still refused to clients and still blocking approval — until an admin tries again
or ``flask evidence redact`` queues it anew. Nothing is skipped silently.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from flask import current_app, has_app_context
from sqlalchemy import select, update

from ..core.aftercommit import after_commit
from ..core.models import db, utcnow
from . import detection, redaction
from .models import Photo
from .storage import get_storage

QUEUE = "evidence"
DEFAULT_RETRY_DELAYS = (5, 30)  # three tries in all
MAX_ERROR = 500

log = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_futures: set[Future] = set()


class RedactionFailed(RuntimeError):
    """Every try failed; the photo is marked failed."""


def retry_delays(app=None) -> tuple[float, ...]:
    config = (app or current_app).config
    return tuple(config.get("REDACTION_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


def max_attempts(app=None) -> int:
    return len(retry_delays(app)) + 1


# --- queueing ------------------------------------------------------------------------------------


def queue_after_commit(photo_id: int) -> None:
    """Redact the photo once the current transaction has committed (nothing if it rolls back)."""
    app = current_app._get_current_object()
    after_commit(lambda: submit(app, photo_id))


def submit(app, photo_id: int) -> None:
    """Hand the photo to RQ (``REDIS_URL``) or to this process's redaction thread."""
    if app.config.get("REDIS_URL"):
        try:
            _rq_queue(app).enqueue(redact_job, photo_id, job_timeout=600, result_ttl=600, failure_ttl=7 * 86400)
            return
        except Exception:  # Redis down: the thread does it rather than nobody
            app.logger.exception("photo %s: redaction queue unavailable, redacting in this process", photo_id)
    global _executor
    with _executor_lock:
        if _executor is None:
            # one at a time: the detector uses both cores, and memory stays bounded
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redaction")
        future = _executor.submit(_thread_run, app, photo_id)
        _futures.add(future)
        future.add_done_callback(_futures.discard)


def drain(timeout: float = 60) -> None:
    """Wait for this process's queued redactions (tests, the CLI)."""
    deadline = time.monotonic() + timeout
    while _futures:
        for future in list(_futures):
            future.exception(timeout=max(0.0, deadline - time.monotonic()))
            _futures.discard(future)


def _rq_queue(app):
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5))


def _thread_run(app, photo_id: int) -> None:
    with app.app_context():
        try:
            run_with_retries(photo_id)
        except RedactionFailed:
            pass  # recorded on the photo
        except Exception:
            app.logger.exception("photo %s: redaction thread failed", photo_id)
        finally:
            db.session.remove()


def redact_job(photo_id: int) -> None:
    """The RQ job. Runs inside the worker's app context (``worker.py``); fails the job when every
    try failed, so it also lands in RQ's failed registry."""
    if not has_app_context():
        raise RuntimeError("redaction jobs run in an app context: start workers with `python worker.py`")
    try:
        run_with_retries(photo_id)
    finally:
        db.session.remove()


# --- the work ------------------------------------------------------------------------------------


def run_with_retries(photo_id: int) -> str:
    """Redact, trying again after each failure; returns the final state. Raises RedactionFailed."""
    delays = retry_delays()
    attempt = 0
    while True:
        try:
            return redact(photo_id)
        except Exception as exc:
            db.session.rollback()
            attempt += 1
            final = attempt > len(delays)
            _record_failure(photo_id, exc, final)
            log.warning("photo %s: redaction try %d failed: %s", photo_id, attempt, exc)
            if final:
                raise RedactionFailed(str(exc)) from exc
            time.sleep(delays[attempt - 1])


def _record_failure(photo_id: int, exc: Exception, final: bool) -> None:
    message = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    values = {"redaction_attempts": Photo.redaction_attempts + 1, "redaction_error": message}
    if final:
        values["redaction_state"] = "failed"
    db.session.execute(update(Photo).where(Photo.id == photo_id, Photo.redaction_state != "done").values(**values))
    db.session.commit()


def redact(photo_id: int) -> str:
    """One try: detect (first time only), render, store and record. Commits. Returns the state."""
    row = db.session.execute(
        select(Photo.storage_key, Photo.redaction_rev, Photo.regions, Photo.redaction_state,
               Photo.redacted_report_key, Photo.redacted_thumb_key).where(Photo.id == photo_id)
    ).one_or_none()
    db.session.commit()  # no transaction stays open while the CPU works
    if row is None:
        return "gone"
    if row.redaction_state == "done":
        return "done"
    storage = get_storage()
    original = redaction.open_original(storage.get(row.storage_key))
    regions = row.regions
    detected = regions is None
    if detected:
        regions = [redaction.new_region(b.kind, b.x, b.y, b.w, b.h, "auto") for b in detection.detect(original)]
    versions = redaction.render(original, regions)
    del original

    base = row.storage_key.rsplit("/", 1)[0] + "/"
    tag = uuid.uuid4().hex[:10]
    keys = {"report": f"{base}redacted-{tag}.jpg", "thumb": f"{base}redacted-thumb-{tag}.jpg"}
    written = []
    try:
        storage.put(keys["report"], versions.report.data, versions.report.content_type)
        written.append(keys["report"])
        storage.put(keys["thumb"], versions.thumb.data, versions.thumb.content_type)
        written.append(keys["thumb"])
        values = {"redacted_report_key": keys["report"], "redacted_thumb_key": keys["thumb"],
                  "redaction_state": "done", "redacted_at": utcnow(), "redaction_error": ""}
        conditions = [Photo.id == photo_id, Photo.redaction_rev == row.redaction_rev,
                      Photo.storage_key == row.storage_key]
        if detected:
            values["regions"] = regions
            conditions.append(Photo.regions.is_(None))
        result = db.session.execute(update(Photo).where(*conditions).values(**values))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _delete(storage, written)
        raise
    if result.rowcount != 1:  # changed meanwhile: a newer job makes the versions that count
        _delete(storage, written)
        return "superseded"
    _delete(storage, [k for k in (row.redacted_report_key, row.redacted_thumb_key) if k])
    return "done"


def _delete(storage, keys) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # left for flask evidence cleanup
            log.warning("could not delete %s", key)
