"""RQ worker entry point: ``python worker.py [QUEUE ...]`` (default: the ``reports``, ``evidence`` and
``notifications`` queues; the scheduler runs too, for the notifications' retries).

Makes the app once from the environment, as ``wsgi.py`` does, and runs RQ's worker inside the
app's context, so every job finds the configuration, the database and Storage there; the jobs
never build an app themselves. ``REDIS_URL`` names the Redis the web workers queue on.
"""

from __future__ import annotations

import sys


def work(app, queues=None, burst: bool = False, worker_class=None) -> bool:
    """Run an RQ worker on ``queues`` inside ``app``'s context (``burst``: stop when they are empty)."""
    from redis import Redis
    from rq import Worker

    from audit_app.evidence.jobs import QUEUE as EVIDENCE_QUEUE
    from audit_app.extensions import db
    from audit_app.notifications.delivery import QUEUE as NOTIFICATIONS_QUEUE
    from audit_app.reports.jobs import QUEUE

    with app.app_context():
        db.engine.dispose()  # no pooled connection crosses into a forked work horse
        connection = Redis.from_url(app.config["REDIS_URL"])
        worker = (worker_class or Worker)(list(queues or [QUEUE, EVIDENCE_QUEUE, NOTIFICATIONS_QUEUE]),
                                          connection=connection)
        return worker.work(burst=burst, with_scheduler=True)  # the scheduler: retries queued with enqueue_in


def main(argv: list[str]) -> int:
    from audit_app import create_app
    from audit_app.cli import check_database
    from audit_app.config import ConfigError

    try:
        app = create_app()
        check_database(app)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 1
    if not app.config.get("REDIS_URL"):
        print("Configuration error: REDIS_URL is not set", file=sys.stderr)
        return 1
    work(app, argv or None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
