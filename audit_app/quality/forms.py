"""Forms of the evaluator pool. Most rules live in the operations, which name the field at fault."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional


class QuizSettingsForm(FlaskForm):
    pass_mark = IntegerField(_l("Pass mark (%)"), validators=[InputRequired(message=_l("Give a number."))])
    active = BooleanField(_l("Evaluators must pass this quiz before visits of the checklist"))


class QuizQuestionForm(FlaskForm):
    prompt_en = StringField(_l("Question in English"))
    prompt_fi = StringField(_l("Question in Finnish"))
    options_en = TextAreaField(_l("Options in English, one a line"), render_kw={"rows": 4})
    options_fi = TextAreaField(_l("Options in Finnish, one a line"), render_kw={"rows": 4})
    correct = IntegerField(_l("Number of the right option"), validators=[Optional()])


class PublishForm(FlaskForm):
    claim_deadline = DateField(_l("Last day to take the jobs"), validators=[Optional()])


class PoolSettingsForm(FlaskForm):
    lockout_days = IntegerField(_l("Lock-out in days (no job at a location visited this recently)"),
                                validators=[InputRequired(message=_l("Give a number."))])
    max_open_jobs = IntegerField(_l("Open jobs an evaluator may hold"),
                                 validators=[InputRequired(message=_l("Give a number."))])


class RoundForm(FlaskForm):
    name = StringField(_l("Name of the round"))
    client_id = SelectField(_l("Client"), coerce=int, validate_choice=False)
    checklist_version_id = SelectField(_l("Checklist version"), coerce=int, validate_choice=False)
    channel = SelectField(_l("Channel"), validate_choice=False)
    location_id = SelectField(_l("Location"), coerce=int, validate_choice=False)
    window_start = DateField(_l("Window starts"), validators=[Optional()])
    window_end = DateField(_l("Window ends"), validators=[Optional()])
    scenario = TextAreaField(_l("Scenario"), render_kw={"rows": 3})
    material_text = TextAreaField(_l("Transcript (optional)"), render_kw={"rows": 6})
    audio = FileField(_l("Recording (optional): MP3, Ogg, WAV, M4A or WebM"))
