"""Single-statement writes on the hot path, each its own transaction.

The autosave's common answer is one statement that checks and writes at once. Run through the
request's ORM session it would cost a liveness ping, a BEGIN and a COMMIT on top of the statement:
four round trips instead of one. This engine serves such statements: the same database, its own
small pool in autocommit mode and no ping; when the server has dropped a connection the statement
is sent once more on a new one, so only idempotent statements belong here.
"""

from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from ..extensions import db

_KEY = "audit_autocommit_engine"
_lock = threading.Lock()


def _engine():
    engine = current_app.extensions.get(_KEY)
    if engine is None:
        with _lock:
            engine = current_app.extensions.get(_KEY)
            if engine is None:
                options = {k: v for k, v in current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).items()
                           if k != "pool_pre_ping"}
                engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT", **options)
                current_app.extensions[_KEY] = engine
    return engine


def scalar(statement, params: dict):
    """Run ``statement`` in a transaction of its own; the first column of its first row, or None."""
    for attempt in (1, 2):
        try:
            with _engine().connect() as conn:
                return conn.execute(statement, params).scalar()
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    return None  # not reached


def dispose() -> None:
    """Close the pooled connections (a forked worker, a database dropped in tests)."""
    engine = current_app.extensions.pop(_KEY, None)
    if engine is not None:
        engine.dispose()
