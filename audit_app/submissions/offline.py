"""The evaluator's form as an installable, offline-first web app: the manifest and the service worker.

The service worker (static/js/offline-sw.js) is served from the root scope at /sw.js with its
version: a digest of every file under static/, so a deploy that changes the app's files is a new
service worker (``OFFLINE_VERSION`` in the configuration overrides it, for tests of an update).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import Response, current_app, render_template_string, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..core.access import public
from .views import bp

_PRECACHED = ("css", "js", "icons")
_LINK = re.compile(r'(?:href|src)="([^"]+)"')


def _static_root() -> Path:
    return Path(current_app.static_folder)


def static_version() -> str:
    """A digest of the static files' names and contents, computed once per process."""
    cached = current_app.extensions.get("offline_static_version")
    if cached is None:
        digest = hashlib.sha256()
        root = _static_root()
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
        cached = digest.hexdigest()[:16]
        current_app.extensions["offline_static_version"] = cached
    return cached


def version() -> str:
    return str(current_app.config.get("OFFLINE_VERSION") or static_version())


def _precache() -> list[str]:
    root = _static_root()
    urls = [
        url_for("static", filename=str(p.relative_to(root)))
        for folder in _PRECACHED
        for p in sorted((root / folder).rglob("*"))
        if p.is_file() and p.name != "offline-sw.js"
    ]
    urls.append(url_for("static", filename="favicon.svg"))
    # Bootstrap-Flask serves its files locally (BOOTSTRAP_SERVE_LOCAL): the same links the pages carry
    assets = render_template_string("{{ bootstrap.load_css() }}{{ bootstrap.load_js() }}")
    urls.extend(_LINK.findall(assets))
    return urls


@bp.route("/sw.js")
@public
def service_worker():
    config = {"version": version(), "precache": _precache()}
    source = (_static_root() / "js" / "offline-sw.js").read_text(encoding="utf-8")
    body = "self.OFFLINE_CONFIG = " + json.dumps(config) + ";\n" + source
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    # the browser must ask every time, so that a deploy is seen at the next page load
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
@public
def manifest():
    language = str(get_locale() or "fi")
    signed_in_evaluator = current_user.is_authenticated and current_user.is_evaluator
    start = url_for("visits.my_visits") if signed_in_evaluator else url_for("accounts.index")
    icon = lambda name, size, purpose="any": {  # noqa: E731
        "src": url_for("static", filename=f"icons/{name}"), "sizes": size, "type": "image/png", "purpose": purpose}
    body = {
        "name": _("Outside-eye audits"),
        "short_name": _("Outside-eye"),
        "description": _("Checklists for evaluators: works without a network and sends everything later."),
        "lang": language,
        "start_url": start,
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f5f8b",
        "icons": [icon("app-192.png", "192x192"), icon("app-512.png", "512x512"),
                  icon("app-maskable-512.png", "512x512", "maskable")],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response


def answer_times(answers) -> dict[str, str]:
    """When each answer the page shows was written (the device's time, UTC), by question id: a copy of
    the page kept on the phone is older than answers written after it, which the page re-applies."""
    return {str(qid): row.answered_at.isoformat(timespec="milliseconds") + "Z"
            for qid, row in answers.items() if getattr(row, "answered_at", None) is not None}


@bp.context_processor
def _offline_helpers():
    return {"answer_times": answer_times, "offline_version": version}
