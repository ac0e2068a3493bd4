"""Forms every package shares."""

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (start, submit, approve, sign out a device)."""
