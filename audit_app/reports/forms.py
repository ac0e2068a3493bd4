"""Forms of the reports package: the period and filters (GET), PDF requests and logo upload."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import Optional, ValidationError

from .queries import MAX_PERIOD_DAYS


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a choice: the field reports "Not a valid choice"


class PeriodForm(FlaskForm):
    """Period and filters, read from the query string."""

    class Meta:
        csrf = False

    client_id = SelectField(_l("Client"), coerce=_int_or_none, validators=[Optional()], validate_choice=True)
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    location_id = SelectField(_l("Location"), coerce=_int_or_none, validators=[Optional()])
    region = SelectField(_l("Region"), validators=[Optional()])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    version_id = SelectField(_l("Checklist version"), coerce=_int_or_none, validators=[Optional()])

    def validate_end(self, field):
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_l("The end date must not be before the start date."))
            if (field.data - self.start.data).days + 1 > MAX_PERIOD_DAYS:
                raise ValidationError(_l("Choose a period of at most five years."))


class PdfForm(FlaskForm):
    """A request to make a PDF of the report on the page (the scope comes from the URL)."""

    start = HiddenField()
    end = HiddenField()


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo (PNG, JPEG or WebP, at most 2 MB)"))


class ExportJobForm(FlaskForm):
    """Asking a worker for an export (the filters are in the query string): its CSRF token only."""
