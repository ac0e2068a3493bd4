"""Error types and friendly error pages."""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from ..extensions import db


class DomainError(Exception):
    """A rule of the domain refused an operation; the message is shown to the user."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    status = 409


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json" or request.is_json
    )


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Something in the request was not right"), _("Please check what you sent and try again.")),
        403: (_("You do not have access to this page"), _("Your account's role does not allow this page.")),
        404: (_("Page not found"), _("The page does not exist, or you do not have access to it.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        409: (_("That could not be done"), _("The item's state does not allow this change.")),
        413: (_("The file is too large"), _("Please send a smaller file.")),
        429: (_("Too many attempts"), _("Please wait a moment and try again.")),
        500: (_("Something went wrong on our side"), _("Nothing you saved was lost. Please try again in a moment.")),
    }


def render_error(status: int, detail: str | None = None):
    title, text = _messages().get(status, _messages()[400 if status < 500 else 500])
    if _wants_json():
        return jsonify({"error": detail or title}), status
    return render_template("errors/error.html", status=status, title=title, text=detail or text), status


def _another_method_matches(exc: MethodNotAllowed) -> bool:
    """Whether the path is served for one of the methods the 405 names. Werkzeug answers 405 when
    another method's rule has the path's shape, even if that rule's converter refuses the value (an
    id past 2**31, ``_bound_url_ids``): then nothing is there for any method, which is a 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in exc.valid_methods or ():
        try:
            adapter.match(method=method)
        except HTTPException:
            continue
        return True
    return False


def register_error_handlers(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(400, _("The form had expired or was not sent from this site. Please try again."))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        return render_error(413)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return render_error(exc.status, exc.message)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def out_of_range(exc):
        # a number from the request that the database cannot hold (e.g. an id past 2**31)
        db.session.rollback()
        app.logger.info("value out of range for the database: %s", exc)
        return render_error(400)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if isinstance(exc, MethodNotAllowed) and not _another_method_matches(exc):
            return render_error(404)
        return render_error(exc.code or 500)

    @app.errorhandler(Exception)
    def server_error(exc):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        db.session.rollback()
        app.logger.exception("unhandled error")
        return render_error(500)
