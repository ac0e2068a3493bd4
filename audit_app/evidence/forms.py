"""Forms of the evidence package (CSRF is checked for every POST by CSRFProtect, JSON included)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField


class UploadForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect has already checked the X-CSRFToken header or field

    file = FileField()
    question_id = StringField()
    caption = StringField()
    client_uid = StringField()
    captured_at = StringField()  # read by the browser from the original before scaling (ISO 8601)


class CaptionForm(FlaskForm):
    class Meta:
        csrf = False

    caption = StringField()


class RetryForm(FlaskForm):
    """Queue a photo for blurring again (the CSRF token only)."""
