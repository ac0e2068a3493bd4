"""Forms for sign-in, own account and the admin's client and user pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, ValidationError

PASSWORD_MIN = 10


def _required():
    return DataRequired(message=_l("This field is required."))


def _email_validators():
    return [
        _required(),
        Length(max=254, message=_l("At most %(max)d characters.", max=254)),
        Email(message=_l("Enter a valid email address."), check_deliverability=False),
    ]


def _new_password_validators():
    return [
        _required(),
        Length(
            min=PASSWORD_MIN,
            max=256,
            message=_l("The password must be %(min)d to %(max)d characters long.", min=PASSWORD_MIN, max=256),
        ),
    ]


def _language_choices():
    return [("fi", "Suomi"), ("en", "English")]


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=_email_validators())
    password = PasswordField(_l("Password"), validators=[_required(), Length(max=256)])
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[_required(), Length(max=256)])
    new_password = PasswordField(_l("New password"), validators=_new_password_validators())
    confirm = PasswordField(
        _l("New password again"),
        validators=[_required(), EqualTo("new_password", message=_l("The passwords do not match."))],
    )
    submit = SubmitField(_l("Change password"))


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=_language_choices(), validators=[InputRequired()])
    submit = SubmitField(_l("Save"))


class ClientForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[_required(), Length(max=120, message=_l("At most %(max)d characters.", max=120))]
    )
    active = BooleanField(_l("Active"), default=True)
    redact_photos = BooleanField(
        _l("Blur faces and licence plates in photos"), default=True,
        description=_l("The client sees photos only after faces and licence plates are blurred. "
                       "Turn off only if the client has its own legal basis to see them."),
    )
    submit = SubmitField(_l("Save"))


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=_email_validators())
    name = StringField(
        _l("Name"), validators=[_required(), Length(max=120, message=_l("At most %(max)d characters.", max=120))]
    )
    role = SelectField(
        _l("Role"),
        choices=[("admin", _l("Admin")), ("evaluator", _l("Evaluator")), ("client", _l("Client user"))],
        validators=[InputRequired()],
    )
    client_id = SelectField(_l("Client"), coerce=int, validate_choice=True)
    language = SelectField(_l("Language"), choices=_language_choices(), validators=[InputRequired()])
    active = BooleanField(_l("Active"), default=True)
    manager = BooleanField(_l("Manager (client users: sets targets, self-assesses, manages actions)"), default=False)
    password = PasswordField(_l("Temporary password"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, clients=(), require_password=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.client_id.choices = [(0, _l("— none —"))] + [(c.id, c.name) for c in clients]
        self.require_password = require_password

    def validate_client_id(self, field):
        if self.role.data == "client" and not field.data:
            raise ValidationError(_l("A client user must belong to a client."))

    def validate_password(self, field):
        if not field.data and not self.require_password:
            return
        if not (PASSWORD_MIN <= len(field.data or "") <= 256):
            raise ValidationError(
                _l("The password must be %(min)d to %(max)d characters long.", min=PASSWORD_MIN, max=256)
            )


class TemporaryPasswordForm(FlaskForm):
    password = PasswordField(_l("Temporary password"), validators=_new_password_validators())
    submit = SubmitField(_l("Set temporary password"))
