"""E-mail: built from a message row in the recipient's language, sent by SMTP or written to disk.

``SMTP_URL`` (``smtp://user:password@host:587`` with STARTTLS when the server offers it,
``smtps://...:465`` for TLS from the start, ``smtp://host:25?tls=off`` for none) sends through a
server. Without it (the embedded default) each message is written as an ``.eml`` file into
``instance/outbox/`` and one line is logged. Every message carries plain text and HTML.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import User
from ..core.labels import channel_label
from ..core.models import db, utcnow
from ..improvement.models import CorrectiveAction
from ..scoring import display
from ..visits.models import EDITABLE, Visit
from .models import EmailMessage

log = logging.getLogger(__name__)


@dataclass
class Built:
    message_id: int
    to: str
    mime: MimeMessage


def _place(visit: Visit) -> str:
    label = channel_label(visit.channel)
    return f"{visit.location.name} · {label}" if visit.location else label


def _visit_context(row: EmailMessage, user: User) -> dict | None:
    visit = db.session.get(Visit, row.event.payload.get("visit_id") or 0)
    if visit is None:
        return None
    place = _place(visit)
    context = {"visit": visit, "place": place, "client_name": visit.client.name,
               "comment": row.event.payload.get("comment", ""), "score": display(visit.score_overall)}
    if row.category == "assignment":
        context["subject"] = _("New visit for you: %(place)s", place=place)
        context["link"] = url_for("visits.my_visits", _external=True)
    elif row.category == "due":
        if visit.status not in EDITABLE or visit.evaluator_id != user.id:
            return None  # done, cancelled or given to someone else since
        context["subject"] = _("Your visit is due tomorrow: %(place)s", place=place)
        context["link"] = url_for("visits.my_visits", _external=True)
    elif row.category == "returned":
        context["subject"] = _("Your visit was returned: %(place)s", place=place)
        context["link"] = url_for("submissions.form", visit_id=visit.id, _external=True)
    else:
        context["subject"] = _("New results: %(place)s", place=place)
        context["link"] = url_for("reports.visit_report", visit_id=visit.id, _external=True)
    return context


def _digest_context(row: EmailMessage, user: User) -> dict | None:
    ids = [i for i in row.event.payload.get("visit_ids") or () if isinstance(i, int)]
    visits = [v for v in db.session.scalars(select(Visit).where(Visit.id.in_(ids)).order_by(Visit.visited_on, Visit.id))
              if v.visible_to(user)] if ids else []
    if not visits:
        return None
    items = [{"place": _place(v), "visited_on": v.visited_on, "score": display(v.score_overall),
              "link": url_for("reports.visit_report", visit_id=v.id, _external=True)} for v in visits]
    return {"visits": items, "client_name": visits[0].client.name,
            "subject": ngettext("Results of %(num)d new visit", "Results of %(num)d new visits", len(items)),
            "link": url_for("reports.dashboard", _external=True)}


def _overdue_context(row: EmailMessage, user: User) -> dict | None:
    action = db.session.get(CorrectiveAction, row.event.payload.get("action_id") or 0)
    if action is None or action.client_id != user.client_id or action.status in ("done", "verified"):
        return None
    what = action.what if len(action.what) <= 60 else action.what[:59] + "…"
    return {"action": action, "place": action.location.name if action.location else "",
            "owner_name": action.owner.name if action.owner else "", "what": action.what,
            "subject": _("A corrective action is overdue: %(what)s", what=what),
            "link": url_for("improvement.action", action_id=action.id, _external=True)}


CONTEXTS = {"assignment": _visit_context, "returned": _visit_context, "due": _visit_context,
            "released": _visit_context, "digest": _digest_context, "overdue": _overdue_context}


def build(row: EmailMessage) -> Built | None:
    """The message for ``row`` in its user's language, or None when there is nothing to say."""
    user = db.session.get(User, row.user_id)
    if user is None or not user.active or row.category not in CONTEXTS:
        return None
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config.get("PUBLIC_URL") or "http://localhost:5000"), \
            force_locale(user.language if user.language in app.config["LANGUAGES"] else "fi"):
        context = CONTEXTS[row.category](row, user)
        if context is None:
            return None
        context["user"] = user
        context["settings_link"] = url_for("accounts.account", _external=True) + "#email-settings"
        text = render_template(f"notifications/email/{row.category}_text.html", **context)
        html = render_template(f"notifications/email/{row.category}.html", **context)
        subject = context["subject"]
        language = user.language
    mime = MimeMessage()
    mime["Subject"] = subject
    mime["From"] = app.config.get("MAIL_FROM") or "noreply@localhost"
    mime["To"] = user.email
    mime["Date"] = formatdate(usegmt=True)
    mime["Message-ID"] = make_msgid(idstring=f"n{row.id}")
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(text)
    mime.add_alternative(html, subtype="html")
    mime["Content-Language"] = language  # after the body: set_content replaces Content-* headers
    return Built(row.id, user.email, mime)


def send(built: Built) -> None:
    """Send through ``SMTP_URL``, or write ``instance/outbox/<id>.eml`` and log one line."""
    url = current_app.config.get("SMTP_URL") or ""
    if not url:
        folder = Path(current_app.config.get("MAIL_OUTBOX_PATH") or Path(current_app.instance_path) / "outbox")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{utcnow():%Y%m%d-%H%M%S}-{built.message_id}.eml"
        path.write_bytes(bytes(built.mime))
        log.info("e-mail to %s “%s” written to %s (no SMTP_URL)", built.to, built.mime["Subject"], path)
        return
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    host, port = parts.hostname or "localhost", parts.port
    context = ssl.create_default_context()
    if parts.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, port or 465, timeout=20, context=context)
    else:
        server = smtplib.SMTP(host, port or 25, timeout=20)
    with server:
        if parts.scheme == "smtp" and options.get("tls", ["auto"])[0] != "off":
            server.ehlo()
            if server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(built.mime)
