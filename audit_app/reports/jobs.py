"""Rendering in an RQ worker when REDIS_URL is configured.

Workers start with ``python worker.py`` (beside ``wsgi.py``): it makes the app once and runs
the jobs inside its app context, so nothing here builds an app. A job runs outside any request
and owns its commits (progress is committed as it goes, for the polling page).

The request that asks for a report commits at the edge, after its view has returned, so the job
is queued only once that commit is done (``enqueue_after_commit``): a worker never looks for a
report row that is not there yet.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import update

from ..core.aftercommit import after_commit
from ..core.models import db

QUEUE = "reports"


def queue():
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=5))


class QueueUnavailable(Exception):
    """Redis could not take the job."""


def check_queue() -> None:
    """Raise QueueUnavailable when Redis does not answer (the caller renders in the request instead)."""
    from redis.exceptions import RedisError

    try:
        queue().connection.ping()
    except RedisError as exc:
        raise QueueUnavailable(str(exc)) from exc


def enqueue(report_id: int) -> None:
    from redis.exceptions import RedisError

    try:
        queue().enqueue(render_job, report_id, job_timeout=600, result_ttl=3600, failure_ttl=86400)
    except RedisError as exc:
        raise QueueUnavailable(str(exc)) from exc


def enqueue_after_commit(report_id: int) -> None:
    """Queue the report's render once the current transaction has committed; nothing if it rolls back.

    Should Redis refuse the job after all, the report is marked failed (on a connection of its own:
    the committed session takes no more statements here), so its page says so instead of waiting.
    """
    from .models import GeneratedReport

    _queue_after_commit(GeneratedReport, report_id, lambda: enqueue(report_id))


def _queue_after_commit(model, row_id: int, put) -> None:
    """``put()`` the row's job once the current transaction has committed; when Redis refuses it,
    the row (a report or an export) is marked failed, so its page says so instead of waiting."""
    from redis.exceptions import RedisError

    app = current_app._get_current_object()

    def queue_it():
        try:
            with app.app_context():
                put()
        except (QueueUnavailable, RedisError):
            app.logger.exception("%s %s: queue unavailable after commit", model.__tablename__, row_id)
            with app.app_context(), db.engine.begin() as conn:
                conn.execute(update(model).where(model.id == row_id)
                             .values(state="failed", error="queue unavailable"))

    after_commit(queue_it)


def render_job(report_id: int) -> None:
    """Render one report. Runs inside the worker's app context (``worker.py``)."""
    from .models import GeneratedReport
    from .operations import render_generated

    def commit_progress(r):  # the polling page reads state and progress from the database
        db.session.commit()

    _run_job(GeneratedReport, report_id, lambda row: render_generated(row, on_progress=commit_progress))


def _run_job(model, row_id: int, work) -> None:
    """``work(row)`` for the row of a worker's job (gone: nothing to do), in a request context of its
    own; the row is committed at the end (done, or failed with its error) and the session removed."""
    if not has_app_context():
        raise RuntimeError("report jobs run in an app context: start workers with `python worker.py`")
    row = db.session.get(model, row_id)
    if row is None:
        return
    try:
        with current_app.test_request_context():
            try:
                work(row)
            finally:
                db.session.commit()  # done, or failed with its error
    finally:
        db.session.remove()


# --- export jobs -----------------------------------------------------------------------------


def export_job_id(export_id: int) -> str:
    return f"export-{export_id}"


def enqueue_export_after_commit(export_id: int) -> None:
    """Queue the export once the current transaction has committed (as ``enqueue_after_commit``)."""
    from .models import ExportJob

    _queue_after_commit(ExportJob, export_id, lambda: queue().enqueue(
        export_job, export_id, job_id=export_job_id(export_id), job_timeout=3600, result_ttl=3600,
        failure_ttl=86400))


def export_job(export_id: int) -> None:
    """Write one export into Storage. Runs inside the worker's app context (``worker.py``).

    The state ``running`` is committed first; the progress (rows written of the total) goes to the RQ
    job's meta as the rows come, since the rows' cursor holds the database session until the end."""
    from rq import get_current_job

    from .models import ExportJob
    from .operations import run_export

    job = get_current_job()

    def on_progress(done: int, total: int) -> None:
        if job is not None:
            job.meta.update(rows_done=done, rows_total=total)
            job.save_meta()

    def work(row) -> None:
        row.state = "running"
        db.session.commit()
        run_export(row, on_progress=on_progress)

    _run_job(ExportJob, export_id, work)


def export_progress(row) -> dict:
    """{state, rows_done, rows_total, progress (0-100)} of an export: from the row once it is finished,
    from the RQ job's meta while it runs (zeros when Redis cannot say)."""
    if row.state in ("done", "failed"):
        done = row.rows or 0
        return {"state": row.state, "rows_done": done, "rows_total": done,
                "progress": 100 if row.state == "done" else 0}
    done = total = 0
    if current_app.config.get("REDIS_URL"):
        from redis.exceptions import RedisError
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            meta = Job.fetch(export_job_id(row.id), connection=queue().connection).get_meta(refresh=True)
            done, total = int(meta.get("rows_done", 0)), int(meta.get("rows_total", 0))
        except (RedisError, NoSuchJobError):
            pass
    progress = min(99, done * 100 // total) if total else 0
    return {"state": row.state, "rows_done": done, "rows_total": total, "progress": progress}
