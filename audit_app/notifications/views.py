"""Views of notifications: webhook endpoints with their delivery log and redelivery (admins, and
client managers for their own organisation), and each user's e-mail settings."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import Client
from ..core.access import authenticated, get_for_client, roles
from ..core.errors import DomainError
from ..core.forms import ActionForm, form_error
from ..core.models import db
from ..core.nav import register_nav
from . import delivery, operations, queries
from .forms import EmailSettingsForm, WebhookForm
from .models import EMAIL_LABELS, EVENT_LABELS, STATE_LABELS, WebhookDelivery, WebhookEndpoint

bp = Blueprint("notifications", __name__)

register_nav("notifications.webhooks", _l("Webhooks"), ("admin",), 96, setup=True)


@bp.before_app_request
def _start_delivery():
    """The first request of each process makes sure its outbox gets drained (after a restart too)."""
    app = current_app._get_current_object()
    if not app.extensions.get("notifications_started"):
        app.extensions["notifications_started"] = True
        if app.config.get("REDIS_URL") or delivery.thread_enabled(app):
            delivery.kick(app)


@bp.app_template_global("email_settings_form")
def email_settings_form():
    """The account page's e-mail settings (an empty list for a user with no category)."""
    if not current_user.is_authenticated:
        return None
    mine = operations.categories_for(current_user)
    if not mine:
        return None
    form = EmailSettingsForm(formdata=None)
    form.categories.choices = [(c, EMAIL_LABELS[c]) for c in mine]
    off = operations.turned_off(current_user.id)
    form.categories.data = [c for c in mine if c not in off]
    if "released" in mine:
        form.released_mode.data = "daily" if operations.released_digest(current_user.id) else "each"
    else:
        del form.released_mode
    return form


@bp.route("/account/email-settings", methods=["POST"])
@authenticated
def email_settings():
    form = EmailSettingsForm()
    mine = operations.categories_for(current_user)
    form.categories.choices = [(c, EMAIL_LABELS[c]) for c in mine]
    if not form.validate_on_submit():
        abort(400)
    operations.set_email_categories(current_user, set(form.categories.data or ()))
    if form.released_mode.data:
        operations.set_released_mode(current_user, form.released_mode.data)
    flash(_("Your e-mail settings are saved."), "success")
    return redirect(url_for("accounts.account") + "#email-settings")


def _may_manage() -> None:
    """Admins, and a client's managers (for their own organisation); other users 403."""
    if not (current_user.is_admin or current_user.is_manager):
        abort(403)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    _may_manage()
    return get_for_client(WebhookEndpoint, endpoint_id)


@bp.route("/webhooks")
@roles("admin", "client")
def webhooks():
    _may_manage()
    return render_template("notifications/webhooks.html", endpoints=queries.endpoints_for(current_user),
                           event_labels=EVENT_LABELS)


def _webhook_form() -> WebhookForm:
    form = WebhookForm()
    form.events.choices = [(e, EVENT_LABELS[e]) for e in operations.allowed_events(current_user)]
    if current_user.is_admin:
        clients = db.session.scalars(select(Client).order_by(Client.name))
        form.client_id.choices = [("", _("Every client"))] + [(str(c.id), c.name) for c in clients]
    else:
        del form.client_id
    return form


@bp.route("/webhooks/new", methods=["GET", "POST"])
@roles("admin", "client")
def webhook_new():
    _may_manage()
    form = _webhook_form()
    if form.validate_on_submit():
        client_id = None
        if current_user.is_admin and form.client_id.data:
            client_id = get_for_client(Client, form.client_id.data).id  # 404 for a bad or unknown id
        try:
            endpoint = operations.create_endpoint(current_user, url=form.url.data, events=form.events.data or [],
                                                  client_id=client_id)
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The webhook was added. Keep its secret for checking signatures."), "success")
            return redirect(url_for("notifications.webhook", endpoint_id=endpoint.id))
    return render_template("notifications/webhook_form.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/webhooks/<int:endpoint_id>")
@roles("admin", "client")
def webhook(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    return render_template("notifications/webhook.html", endpoint=endpoint, log=queries.delivery_log(endpoint),
                           event_labels=EVENT_LABELS, state_labels=STATE_LABELS, action_form=ActionForm()), 200, {"Cache-Control": "no-store"}


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@roles("admin", "client")
def webhook_delete(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.delete_endpoint(endpoint)
    flash(_("The webhook was removed."), "success")
    return redirect(url_for("notifications.webhooks"))


@bp.route("/webhooks/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@roles("admin", "client")
def redeliver(delivery_id: int):
    _may_manage()
    old = get_for_client(WebhookDelivery, delivery_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.redeliver(old)
    flash(_("The event will be sent again in a moment."), "success")
    return redirect(url_for("notifications.webhook", endpoint_id=old.endpoint_id))


@bp.cli.command("drain")
def drain_command():
    """Send what the outbox holds now (fan-out, webhooks, e-mail); retries wait for their time."""
    import click

    counts = delivery.drain_all()
    click.echo(", ".join(f"{key} {value}" for key, value in counts.items()))


@bp.cli.command("tick")
def tick_command():
    """The periodic check (run it from cron every few minutes): actions overdue, visits due
    tomorrow, daily digests and pruning; then what is due is sent, as ``drain`` does."""
    import click

    from . import periodic

    counts = periodic.tick()
    counts.update(delivery.drain_all())
    click.echo(", ".join(f"{key} {value}" for key, value in counts.items()))


@bp.cli.command("prune")
def prune_command():
    """Delete delivered outbox events older than NOTIFY_RETENTION_DAYS, with their delivery log."""
    import click

    from . import periodic

    click.echo(f"pruned {periodic.prune()}")
