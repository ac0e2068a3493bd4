"""Errors as ``application/problem+json`` (RFC 9457), with the same translated messages as the pages."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from ..core.errors import DomainError, _messages
from ..extensions import db
from .blueprint import blp

PROBLEM = "application/problem+json"

#: marshmallow's messages, said the way the pages say them
FIELD_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid date.": _l("Enter a date."),
    "Not a valid datetime.": _l("Enter a date and time."),
    "Not a valid string.": _l("Enter text."),
    "Not a valid boolean.": _l("Enter true or false."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid list.": _l("Enter a list."),
    "Field may not be null.": _l("This field is required."),
    "Unknown field.": _l("This field is not known."),
    "Invalid input type.": _l("The request body must be a JSON object."),
    "Must be one of: read, read write.": _l("Choose a value from the list."),
}


def _title(status: int) -> str:
    if status == 401:
        return _("Please sign in to continue.")
    if status == 422:
        return _("Something in the request was not right")
    return _messages().get(status, _messages()[400 if status < 500 else 500])[0]


def problem(status: int, detail: str | None = None, *, errors: dict | None = None, headers=None):
    title = _title(status)
    body = {"type": "about:blank", "title": str(title), "status": status, "detail": str(detail or title)}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _translated(messages):
    if isinstance(messages, dict):
        return {str(k): _translated(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [_translated(m) for m in messages]
    text = str(messages)
    found = FIELD_MESSAGES.get(text)
    if found is None and text.startswith("Must be one of"):
        found = FIELD_MESSAGES["Must be one of: read, read write."]
    if found is None and text.startswith(("Must be greater", "Must be less", "Length must", "Longer than",
                                                   "Shorter than")):
        found = _l("The value is out of range.")
    return str(found) if found is not None else text


@blp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    db.session.rollback()
    return problem(exc.status, exc.message, errors={exc.field: [exc.message]} if exc.field else None)


@blp.errorhandler(CSRFError)
def csrf_error(exc):
    return problem(400, _("The form had expired or was not sent from this site. Please try again."))


@blp.errorhandler(DataError)
@blp.errorhandler(OverflowError)
def out_of_range(exc):
    db.session.rollback()
    return problem(400)


@blp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    status = exc.code or 500
    errors = None
    data = getattr(exc, "data", None) or {}
    if status == 422 and "messages" in data:
        # webargs: {location: {field: [messages]}}; the fields are what a caller needs
        merged: dict = {}
        for fields in data["messages"].values():
            merged.update(_translated(fields) if isinstance(fields, dict) else {"_": _translated(fields)})
        errors = merged
        return problem(422, _("Something in the request was not right"), errors=errors)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return problem(status, headers=headers)
