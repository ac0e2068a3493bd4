"""Forms every package shares."""

from flask import flash
from flask_wtf import FlaskForm

from .errors import DomainError


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (start, submit, approve, sign out a device)."""


def form_error(form, exc: DomainError) -> None:
    """Show an operation's refusal with the form: under the field it names, else as a message."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "danger")
