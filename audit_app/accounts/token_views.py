"""API tokens: the user's own on the account page, and the admin's list of every working token."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..core.access import authenticated, get_for_client, roles
from ..core.errors import DomainError
from ..core.forms import ActionForm, form_error
from ..core.models import utcnow
from ..core.nav import register_nav
from . import tokens

bp = Blueprint("tokens", __name__)


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("This field is required.")),
                                                Length(max=tokens.NAME_MAX, message=_l("At most %(max)d characters.",
                                                                                       max=tokens.NAME_MAX))])
    scope = SelectField(_l("What the token may do"), choices=[(s, tokens.SCOPE_LABELS[s]) for s in tokens.SCOPES],
                        validate_choice=True)
    expires_on = DateField(_l("Valid until"), validators=[DataRequired(message=_l("Enter a date."))])
    submit = SubmitField(_l("Create token"))


@bp.app_template_global("api_tokens_of")
def api_tokens_of(user):
    return tokens.tokens_of(user) if user.is_authenticated else []


@bp.app_template_global("token_scope_label")
def token_scope_label(scope: str):
    return tokens.SCOPE_LABELS.get(scope, scope)


@bp.route("/account/tokens/new", methods=["GET", "POST"])
@authenticated
def new():
    form = ApiTokenForm()
    if request.method == "GET":
        form.expires_on.data = (utcnow() + timedelta(days=90)).date()
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(current_user, name=form.name.data, scope=form.scope.data,
                                                expires_on=form.expires_on.data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            response = render_template("accounts/token_created.html", token=token, secret=secret)
            return response, 201, {"Cache-Control": "no-store"}
    return render_template("accounts/token_form.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@authenticated
def revoke(token_id: int):
    # one's own token, or any for an admin; anyone else's is a 404
    token = get_for_client(tokens.ApiToken, token_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    tokens.revoke_token(token)
    flash(_("The token was revoked. It no longer works."), "success")
    if current_user.is_admin and token.user_id != current_user.id:
        return redirect(url_for("tokens.admin_list"))
    return redirect(url_for("accounts.account") + "#api-tokens")


@bp.route("/admin/tokens")
@roles("admin")
def admin_list():
    return render_template("accounts/tokens.html", tokens=tokens.all_tokens(), action_form=ActionForm())


register_nav("tokens.admin_list", _l("API tokens"), ("admin",), 95)
