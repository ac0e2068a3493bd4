"""Forms of improvement. Choices are filled by the views from the client's own data."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a choice: "Not a valid choice"


class TargetForm(FlaskForm):
    dimension = SelectField(_l("Score"), validators=[InputRequired()])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    value = FloatField(_l("Target (0–100)"), validators=[
        InputRequired(message=_l("Give a number from 0 to 100.")),
        NumberRange(min=0, max=100, message=_l("Give a number from 0 to 100."))])
    applies_from = DateField(_l("Applies from"), validators=[InputRequired(message=_l("Give a date."))])


class StartSelfAssessmentForm(FlaskForm):
    version_id = SelectField(_l("Checklist"), coerce=_int_or_none, validators=[InputRequired()])
    channel = SelectField(_l("Channel"), validators=[InputRequired()])
    location_id = SelectField(_l("Location (optional)"), coerce=_int_or_none, validators=[Optional()])


class ActionCreateForm(FlaskForm):
    what = TextAreaField(_l("What will be done"), validators=[
        DataRequired(message=_l("Say what will be done.")),
        Length(max=2000, message=_l("At most %(max)d characters.", max=2000))], render_kw={"rows": 3})
    owner_id = SelectField(_l("Owner"), coerce=_int_or_none, validators=[InputRequired()])
    due_on = DateField(_l("Due date"), validators=[InputRequired(message=_l("Give a date."))])


class ActionStatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[InputRequired()])
    comment = TextAreaField(_l("Comment (optional)"), validators=[
        Length(max=5000, message=_l("At most %(max)d characters.", max=5000))], render_kw={"rows": 2})


class ActionCommentForm(FlaskForm):
    text = TextAreaField(_l("Comment"), validators=[
        DataRequired(message=_l("Write a comment.")),
        Length(max=5000, message=_l("At most %(max)d characters.", max=5000))], render_kw={"rows": 3})


class ActionPhotoForm(FlaskForm):
    file = FileField(_l("Photo of the fix"), render_kw={"accept": "image/*"})
    caption = StringField(_l("Caption (optional)"), validators=[
        Length(max=500, message=_l("At most %(max)d characters.", max=500))])


class ActionFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()])
    owner_id = SelectField(_l("Owner"), coerce=_int_or_none, validators=[Optional()])
    location_id = SelectField(_l("Location"), coerce=_int_or_none, validators=[Optional()])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    overdue = SelectField(_l("Overdue"), validators=[Optional()])


class GapPeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    location_id = SelectField(_l("Location"), coerce=_int_or_none, validators=[Optional()])

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The end date must not be before the start date."))
