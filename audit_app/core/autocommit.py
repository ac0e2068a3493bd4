"""Single-statement writes on the hot path, each its own transaction.

The autosave's common answer is one statement that checks and writes at once. Run through the
request's ORM session it would cost a liveness ping, a BEGIN and a COMMIT on top of the statement:
four round trips instead of one. This engine serves such statements: the same database, its own
small pool in autocommit mode, no ping and no reset when a connection goes back to the pool (in
autocommit mode there is no transaction to roll back); when the server has dropped a connection
the statement is sent once more on a new one, so only idempotent statements belong here. The
functions take the app, so they also serve a caller outside an app context (the autosave's lane).
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache

from flask import Flask
from sqlalchemy import JSON, create_engine

from ..extensions import db

_KEY = "audit_autocommit_engine"
_lock = threading.Lock()


def engine(app: Flask):
    """The app's autocommit engine (made on first use)."""
    made = app.extensions.get(_KEY)
    if made is None:
        with _lock:
            made = app.extensions.get(_KEY)
            if made is None:
                options = {k: v for k, v in app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).items()
                           if k not in ("pool_pre_ping", "pool_reset_on_return")}
                with app.app_context():
                    url = db.engine.url
                made = create_engine(url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **options)
                app.extensions[_KEY] = made
    return made


@lru_cache(maxsize=16)
def _driver_sql(statement, dialect) -> tuple:
    """``statement`` compiled once for the driver: (compiled, its SQL, the names of its JSON parameters)."""
    compiled = statement.compile(dialect=dialect)
    json_names = frozenset(name for name, bind in compiled.binds.items() if isinstance(bind.type, JSON))
    return compiled, compiled.string, json_names


def scalar(app: Flask, statement, params: dict):
    """Run ``statement`` in a transaction of its own; the first column of its first row, or None.

    The statement is compiled once and sent straight to the driver's cursor (with the driver's own
    prepared statements): SQLAlchemy's per-execution work (a cache key of the whole statement, a
    result object) cost as much CPU as the driver's round trip on this hot path.
    """
    pool = engine(app)
    compiled, sql, json_names = _driver_sql(statement, pool.dialect)
    values = compiled.construct_params(params)
    for name in json_names:
        values[name] = json.dumps(values[name])
    for attempt in (1, 2):
        conn = pool.raw_connection()
        cursor = None
        try:
            cursor = conn.cursor()
            cursor.execute(sql, values)
            row = cursor.fetchone()
            return row[0] if row else None
        except pool.dialect.loaded_dbapi.Error as exc:
            if attempt == 2 or not pool.dialect.is_disconnect(exc, conn.dbapi_connection, cursor):
                raise
            conn.invalidate()  # the server dropped it: send once more on a new connection
        finally:
            if cursor is not None:
                cursor.close()
            conn.close()
    return None  # not reached
