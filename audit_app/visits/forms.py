"""Forms for locations, client channels, visits, waves and the visit filters.

Choice lists are filled by the views. Ids of locations, client channels, versions and
evaluators are not limited to the choices here: the operations check them and say what is
wrong (another client's location, an unpublished version, a user who is not an evaluator).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..core.access import MAX_ID
from .queries import channel_choices, status_choices


def _required():
    return DataRequired(message=_l("This field is required."))


def _max(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


def _id(value) -> int:
    """Coerce an id; non-numbers and numbers out of the id range raise ValueError (a form error):
    a larger id never reaches a query, where it would be a database error (500), not "not found"."""
    number = int(value)
    if not 0 <= number <= MAX_ID:
        raise ValueError("id out of range")
    return number


def _int_or_zero(value) -> int:
    """Coerce a select's value to an id; empty means 0 (none). Non-numbers raise ValueError."""
    if value in (None, "", "None"):
        return 0
    return _id(value)


class LocationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[_required(), _max(160)])
    address = StringField(_l("Address"), validators=[_max(255)])
    city = StringField(_l("City"), validators=[_max(120)])
    region = StringField(_l("Region"), validators=[_max(120)])
    lat = StringField(_l("Latitude"), validators=[_max(32)],
                      description=_l("Optional, for example 60.1699. With coordinates, the phone checks at the "
                                     "start of a visit that the evaluator is near; only the distance is kept."))
    lon = StringField(_l("Longitude"), validators=[_max(32)], description=_l("Optional, for example 24.9384."))
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))
    submit = SubmitField(_l("Import"))


class ChannelForm(FlaskForm):
    channel = SelectField(_l("Channel"), validators=[InputRequired()])
    label = StringField(_l("Label"), validators=[_required(), _max(160)],
                        description=_l("For example “Customer service” or “Chat on the front page”."))
    contact = StringField(_l("Contact"), validators=[_max(255)],
                          description=_l("A phone number, email address, web address or social-media account."))
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = channel_choices()


class VisitForm(FlaskForm):
    channel = SelectField(_l("Channel"), validators=[InputRequired()])
    location_id = SelectField(_l("Location"), coerce=_int_or_zero, validate_choice=False)
    client_channel_id = SelectField(_l("Client channel"), coerce=_int_or_zero, validate_choice=False)
    checklist_version_id = SelectField(_l("Checklist version"), coerce=_int_or_zero, validate_choice=False)
    evaluator_id = SelectField(_l("Evaluator"), coerce=_int_or_zero, validate_choice=False)
    due_from = DateField(_l("Due from"), validators=[InputRequired(message=_l("This field is required."))])
    due_to = DateField(_l("Due by"), validators=[InputRequired(message=_l("This field is required."))])
    scenario = TextAreaField(
        _l("Scenario"), validators=[_max(5000)],
        description=_l("What the evaluator should do and pretend, e.g. “Call as a 70-year-old who wants to move "
                       "a pension payment date.”"),
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, locations=(), channels=(), versions=(), evaluators=(), **kwargs):
        super().__init__(*args, **kwargs)
        none = [(0, _l("— none —"))]
        self.channel.choices = channel_choices()
        self.location_id.choices = none + [(loc.id, f"{loc.name}, {loc.city}" if loc.city else loc.name)
                                           for loc in locations]
        self.client_channel_id.choices = none + [(c.id, f"{c.label} ({c.contact})" if c.contact else c.label)
                                                 for c in channels]
        self.checklist_version_id.choices = [(v_id, label) for v_id, label in versions]
        self.evaluator_id.choices = [(u.id, u.name) for u in evaluators]

    def validate_checklist_version_id(self, field):
        if not field.data:
            raise ValidationError(_l("Choose a published checklist version."))

    def validate_evaluator_id(self, field):
        if not field.data:
            raise ValidationError(_l("Choose an active evaluator."))

    def validate_due_to(self, field):
        if field.data and self.due_from.data and field.data < self.due_from.data:
            raise ValidationError(_l("The end date cannot be before the start date."))


class IntListField(SelectMultipleField):
    """Checkbox lists of ids; non-numbers are a form error, unknown ids are the operation's concern."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, coerce=_id, validate_choice=False, **kwargs)


class WaveForm(FlaskForm):
    name = StringField(_l("Name of the wave"), validators=[_required(), _max(160)])
    checklist_version_id = SelectField(_l("Checklist version"), coerce=_int_or_zero, validate_choice=False)
    period_start = DateField(_l("Period starts"), validators=[InputRequired(message=_l("This field is required."))])
    period_end = DateField(_l("Period ends"), validators=[InputRequired(message=_l("This field is required."))])
    channels = SelectMultipleField(_l("Channels"))
    location_ids = IntListField(_l("Locations"))
    evaluator_ids = IntListField(_l("Evaluators"))
    scenario = TextAreaField(_l("Scenario"), validators=[_max(5000)], render_kw={"rows": 3})
    submit = SubmitField(_l("Create the visits"))

    def __init__(self, *args, locations=(), versions=(), evaluators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.channels.choices = channel_choices()
        self.location_ids.choices = [(loc.id, loc.name) for loc in locations]
        self.evaluator_ids.choices = [(u.id, u.name) for u in evaluators]
        self.checklist_version_id.choices = [(v_id, label) for v_id, label in versions]

    def validate_checklist_version_id(self, field):
        if not field.data:
            raise ValidationError(_l("Choose a published checklist version."))

    def validate_channels(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one channel."))

    def validate_evaluator_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one evaluator."))

    def validate_period_end(self, field):
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(_l("The end date cannot be before the start date."))


class VisitFilterForm(FlaskForm):
    """The filters of the admin's visit list (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    client_id = SelectField(_l("Client"), coerce=_int_or_zero, validate_choice=False)
    status = SelectField(_l("Status"), validators=[Optional()])
    evaluator_id = SelectField(_l("Evaluator"), coerce=_int_or_zero, validate_choice=False)
    wave_id = SelectField(_l("Wave"), coerce=_int_or_zero, validate_choice=False)
    due_from = DateField(_l("Due from"), validators=[Optional()])
    due_to = DateField(_l("Due by"), validators=[Optional()])

    def __init__(self, *args, clients=(), evaluators=(), waves=(), **kwargs):
        super().__init__(*args, **kwargs)
        every = [(0, _l("All"))]
        self.client_id.choices = every + [(c.id, c.name) for c in clients]
        self.status.choices = [("", _l("All"))] + status_choices()
        self.evaluator_id.choices = every + [(u.id, u.name) for u in evaluators]
        self.wave_id.choices = every + [(w.id, w.name) for w in waves]


class BulkForm(FlaskForm):
    """Bulk actions on the visits selected in the visits list (``visits.bulk``)."""

    visit_ids = IntListField(_l("Visits"))
    action = SelectField(_l("With the selected visits"), choices=[
        ("", _l("Choose an action")), ("reassign", _l("Reassign to an evaluator")),
        ("window", _l("Change the due window")), ("cancel", _l("Cancel the visits")),
    ], validate_choice=False)
    evaluator_id = SelectField(_l("New evaluator"), coerce=_int_or_zero, validate_choice=False)
    due_from = DateField(_l("New due from"), validators=[Optional()])
    due_to = DateField(_l("New due by"), validators=[Optional()])

    def __init__(self, *args, evaluators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.evaluator_id.choices = [(0, _l("— choose —"))] + [(u.id, u.name) for u in evaluators]
