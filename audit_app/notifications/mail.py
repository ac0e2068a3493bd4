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
from flask_babel import force_locale
from flask_babel import gettext as _

from ..accounts.models import User
from ..core.labels import channel_label
from ..core.models import db, utcnow
from ..scoring import display
from ..visits.models import Visit
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


def build(row: EmailMessage) -> Built | None:
    """The message for ``row`` in its user's language, or None when there is nothing to say."""
    user = db.session.get(User, row.user_id)
    visit = db.session.get(Visit, row.event.payload.get("visit_id") or 0)
    if user is None or not user.active or visit is None:
        return None
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config.get("PUBLIC_URL") or "http://localhost:5000"), \
            force_locale(user.language if user.language in app.config["LANGUAGES"] else "fi"):
        context = {"user": user, "visit": visit, "place": _place(visit), "client_name": visit.client.name,
                   "comment": row.event.payload.get("comment", ""), "score": display(visit.score_overall)}
        if row.category == "assignment":
            subject = _("New visit for you: %(place)s", place=context["place"])
            context["link"] = url_for("visits.my_visits", _external=True)
        elif row.category == "returned":
            subject = _("Your visit was returned: %(place)s", place=context["place"])
            context["link"] = url_for("submissions.form", visit_id=visit.id, _external=True)
        else:
            subject = _("New results: %(place)s", place=context["place"])
            context["link"] = url_for("reports.visit_report", visit_id=visit.id, _external=True)
        context["subject"] = subject
        context["settings_link"] = url_for("accounts.account", _external=True) + "#email-settings"
        text = render_template(f"notifications/email/{row.category}_text.html", **context)
        html = render_template(f"notifications/email/{row.category}.html", **context)
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
