"""Rendering in an RQ worker when REDIS_URL is configured.

Start a worker with ``rq worker reports --url $REDIS_URL`` in an environment that has the
app's configuration; the job builds the app itself when it runs outside one.
"""

from __future__ import annotations

from flask import current_app, has_app_context

QUEUE = "reports"


def queue():
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=5))


class QueueUnavailable(Exception):
    """Redis could not take the job."""


def enqueue(report_id: int) -> None:
    from redis.exceptions import RedisError

    try:
        queue().enqueue(render_job, report_id, job_timeout=600, result_ttl=3600, failure_ttl=86400)
    except RedisError as exc:
        raise QueueUnavailable(str(exc)) from exc


def render_job(report_id: int) -> None:
    if has_app_context():
        _run(report_id)
        return
    from .. import create_app

    with create_app().app_context():
        _run(report_id)


def _run(report_id: int) -> None:
    from ..core.models import db
    from .models import GeneratedReport
    from .operations import render_generated

    row = db.session.get(GeneratedReport, report_id)
    if row is None:
        return

    def commit_progress(r):  # the polling page reads state and progress from the database
        db.session.commit()

    with current_app.test_request_context():
        try:
            render_generated(row, on_progress=commit_progress)
        except Exception:
            db.session.commit()
            raise
        db.session.commit()
