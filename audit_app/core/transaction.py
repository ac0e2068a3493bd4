"""Commit at the edge, once per request.

Operations flush; views never commit. After the view has answered, a successful response
(status below 400) commits the request's transaction and anything else rolls it back: a form
shown again with its errors (400), a refusal (403, 404, 409) and an error (500) leave the
database as it was. A view whose refusal must still keep what it wrote (a failed sign-in is
counted) says so with ``keep_writes()``. The CLI and the workers own their commits.
"""

from __future__ import annotations

from flask import Flask, g

from ..extensions import db


def keep_writes() -> None:
    """Commit this request's writes even though its response refuses."""
    g.keep_writes = True


def _finish(response):
    if response.status_code < 400 or g.get("keep_writes"):
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_app(app: Flask) -> None:
    app.after_request(_finish)
