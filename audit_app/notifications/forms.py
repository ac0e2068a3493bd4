"""Forms of notifications: a webhook endpoint, and the e-mails a user gets."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField, widgets
from wtforms.validators import DataRequired, Length


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class WebhookForm(FlaskForm):
    url = StringField(_l("Address (https://...)"),
                      validators=[DataRequired(message=_l("Enter the address of the endpoint.")),
                                  Length(max=500, message=_l("At most %(max)d characters.", max=500))])
    events = CheckboxesField(_l("Events"), choices=[], validate_choice=False)
    client_id = SelectField(_l("Client"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Add webhook"))


class EmailSettingsForm(FlaskForm):
    categories = CheckboxesField(_l("Send me an e-mail when"), choices=[], validate_choice=False)
    released_mode = RadioField(_l("Released results"), choices=[("each", _l("One e-mail for each visit")),
                                                                ("daily", _l("One summary e-mail a day"))],
                               validate_choice=False)
    submit = SubmitField(_l("Save e-mail settings"))
