"""Sign-in, own account, and the admin's client and user pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from ..core.access import authenticated, get_for_client, public, roles
from ..core.errors import DomainError
from ..core.forms import ActionForm, form_error
from ..core.models import db
from ..core.nav import register_nav
from ..core.transaction import keep_writes
from . import operations, queries
from .forms import ChangePasswordForm, ClientForm, LanguageForm, LoginForm, TemporaryPasswordForm, UserForm
from .models import SESSION_TOKEN_KEY, Client, User
from .queries import device_label

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user of this browser's session, if that session is still open
    on the server (signing out, a password change or a deactivation ends it)."""
    return operations.session_user(user_id, session.get(SESSION_TOKEN_KEY))


def _sign_in(user: User) -> None:
    session.clear()  # nothing from before the sign-in carries over (session fixation)
    session[SESSION_TOKEN_KEY] = operations.open_session(user, request.user_agent.string)
    login_user(user)


@bp.route("/")
@authenticated
def index():
    return render_template("accounts/home.html")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr
        minutes = operations.locked_minutes(form.email.data, address)
        if minutes:
            form.email.errors = [
                _("Too many failed sign-in attempts. Try again in %(minutes)d minutes.", minutes=minutes)
            ]
            status = 429
        else:
            user = operations.authenticate(form.email.data, form.password.data, address)
            if user is None:
                keep_writes()  # the failure counts towards the lock
                form.password.errors = [_("The email address or password is not correct.")]
                status = 401
            else:
                _sign_in(user)
                if user.must_change_password:
                    return redirect(url_for("accounts.password"))
                return redirect(_safe_next(request.args.get("next")) or url_for("accounts.index"))
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@authenticated
def logout():
    operations.end_session(session.get(SESSION_TOKEN_KEY))
    logout_user()
    session.pop(SESSION_TOKEN_KEY, None)
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/language", methods=["POST"])
@public
def switch_language():
    language = request.form.get("language")
    if language not in ("fi", "en"):
        return redirect(url_for("accounts.index")), 303
    if current_user.is_authenticated:
        operations.set_language(current_user, language)
    else:
        session["lang"] = language
    return redirect(_safe_next(request.form.get("next")) or url_for("accounts.index"), 303)


@bp.route("/account", methods=["GET", "POST"])
@authenticated
def account():
    form = LanguageForm(obj=current_user)
    if form.validate_on_submit():
        operations.set_language(current_user, form.language.data)
        flash(_("Your settings were saved."), "success")
        return redirect(url_for("accounts.account"))
    token_hash = operations.token_hash(session.get(SESSION_TOKEN_KEY) or "")
    devices = [
        {"id": d.id, "label": device_label(d.user_agent), "last_seen_at": d.last_seen_at,
         "created_at": d.created_at, "current": d.token_hash == token_hash}
        for d in queries.devices(current_user)
    ]
    return render_template("accounts/account.html", form=form, devices=devices, action_form=ActionForm()), (
        400 if request.method == "POST" else 200)


@bp.route("/account/sessions/<int:device_id>/end", methods=["POST"])
@authenticated
def end_device(device_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    if not operations.end_device(current_user, device_id):
        abort(404)
    flash(_("That device was signed out."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/sessions/end", methods=["POST"])
@authenticated
def end_everywhere():
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.end_sessions(current_user)
    logout_user()
    session.pop(SESSION_TOKEN_KEY, None)
    flash(_("You have signed out on every device."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@authenticated
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            operations.change_own_password(current_user, form.current_password.data, form.new_password.data,
                                           keep_token=session.get(SESSION_TOKEN_KEY))
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("Your password was changed."), "success")
            return redirect(url_for("accounts.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/password.html", form=form), status


# --- admin: clients -----------------------------------------------------------------------


@bp.route("/admin/clients")
@roles("admin")
def clients():
    return render_template("accounts/clients.html", clients=queries.clients())


@bp.route("/admin/clients/new", methods=["GET", "POST"])
@roles("admin")
def client_new():
    return _client_form(None)


@bp.route("/admin/clients/<int:client_id>", methods=["GET", "POST"])
@roles("admin")
def client_edit(client_id: int):
    return _client_form(get_for_client(Client, client_id))


def _client_form(client: Client | None):
    form = ClientForm(obj=client)
    if form.validate_on_submit():
        try:
            if client is None:
                operations.create_client(form.name.data, redact_photos=form.redact_photos.data)
            else:
                operations.update_client(client, name=form.name.data, active=form.active.data,
                                         redact_photos=form.redact_photos.data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The client was saved."), "success")
            return redirect(url_for("accounts.clients"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/client_form.html", form=form, client=client), status


# --- admin: users -------------------------------------------------------------------------


@bp.route("/admin/users")
@roles("admin")
def users():
    return render_template("accounts/users.html", users=queries.users())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles("admin")
def user_new():
    return _user_form(None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles("admin")
def user_edit(user_id: int):
    return _user_form(get_for_client(User, user_id))


def _user_form(user: User | None):
    form = UserForm(obj=user, clients=queries.clients(), require_password=user is None)
    if request.method == "GET" and user is not None:
        form.client_id.data = user.client_id or 0
    if form.validate_on_submit():
        client = db.session.get(Client, form.client_id.data) if form.client_id.data else None
        fields = dict(
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            client=client,
            language=form.language.data,
            manager=bool(form.manager.data),
        )
        try:
            if user is None:
                operations.create_user(password=form.password.data, **fields)
            else:
                if user.id == current_user.id and (not form.active.data or form.role.data != "admin"):
                    raise DomainError(_("You cannot deactivate yourself or remove your own admin role."))
                operations.update_user(user, active=form.active.data, **fields)
                if form.password.data:
                    operations.set_temporary_password(user, form.password.data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The user was saved."), "success")
            return redirect(url_for("accounts.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/user_form.html", form=form, user=user), status


@bp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@roles("admin")
def user_password(user_id: int):
    user = get_for_client(User, user_id)
    form = TemporaryPasswordForm()
    if form.validate_on_submit():
        operations.set_temporary_password(user, form.password.data)
        flash(_("A temporary password was set. The user must change it at the next sign-in."), "success")
        return redirect(url_for("accounts.users"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/user_password.html", form=form, user=user), status


register_nav("accounts.clients", _l("Clients"), ("admin",), 80, setup=True)
register_nav("accounts.users", _l("Users"), ("admin",), 90, setup=True)
