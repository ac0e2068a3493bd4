"""The autosave's lane: the common answer is taken before Flask's request machinery.

An evaluator's phone sends every answer as it is given, so ``POST /visits/<id>/answers`` is by
far the busiest request. Its common case is one database statement that proves the user's
access and writes the answer (``operations.autosave``); around it, Flask's request context
(proxies, routing, hooks, the session and CSRF objects, response building) cost three times the
statement's own CPU. This WSGI middleware answers that common case itself, with the same
libraries doing the same checks:

- the session is read with the app's own session serializer (``itsdangerous``, as Flask does);
- the CSRF token is checked as Flask-WTF checks it (its serializer and salt, compared with the
  session's token; on HTTPS the referrer must be of the same origin);
- the JSON is read by ``forms.parse_answer``, the answer checked and written by
  ``operations.autosave``, whose statement proves everything the access rule asks.

Anything else — no or a bad session or token, another kind of body, a body too large, an answer
the statement does not write — goes on to Flask untouched (the body is put back), where the
full path gives its exact status and message. So the lane can only say yes where the full path
would say yes; every refusal is the full path's. An error inside the lane is logged and the
request, too, goes on to Flask. On SQLite (the embedded default) the lane stands aside: the
statement is PostgreSQL's.

Measured with ``bench/load_bench.py`` (50 evaluators, gunicorn 2 x 4 threads, two cores): the
lane took the app's CPU per answer in its workers from about 1.1 ms to 0.55 ms and its
throughput from 0.37 to 0.55-0.57 of a bare Flask endpoint's.
"""

from __future__ import annotations

import hmac
import io
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from flask import Flask
from flask_wtf.csrf import same_origin
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.engine import make_url
from werkzeug.http import parse_cookie
from werkzeug.sansio.utils import get_host

from ..core.access import MAX_ID, parse_session_id
from ..core.errors import DomainError
from ..core.http import SECURITY_HEADERS
from . import operations
from .forms import parse_answer, saved_reply

ANSWER_PATH = re.compile(r"/visits/([1-9][0-9]{0,9})/answers")
#: the largest body the lane reads (an answer with a 5,000-character comment is about 20 kB)
MAX_BODY = 64 * 1024
CSRF_SALT = "wtf-csrf-token"  # Flask-WTF's (flask_wtf.csrf.generate_csrf / validate_csrf)


@dataclass(frozen=True)
class Keys:
    session: URLSafeTimedSerializer
    session_max_age: int
    csrf: URLSafeTimedSerializer
    csrf_max_age: int | None


class AutosaveLane:
    """WSGI middleware in front of ``app.wsgi_app`` (installed by ``install``)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._verified = Verified()
        # the statement is PostgreSQL's (``operations.autosave``); elsewhere Flask takes every answer
        self.enabled = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql"

    def __call__(self, environ, start_response):
        if self.enabled and environ.get("REQUEST_METHOD") == "POST":
            match = ANSWER_PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None and int(match[1]) <= MAX_ID:
                try:
                    body = self._answer(environ, int(match[1]))
                except Exception:  # the lane never answers with an error of its own
                    self.app.logger.exception("the autosave lane failed; the full path answers instead")
                    body = None
                if body is not None:
                    start_response("200 OK", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(body))),
                                              *SECURITY_HEADERS, ("Vary", "Cookie")])
                    return [body]
        return self.wsgi_app(environ, start_response)

    @cached_property
    def _keys(self) -> Keys:
        """How Flask signs the session and Flask-WTF the CSRF token (read on first use: the app's
        configuration is complete by then)."""
        app, config = self.app, self.app.config
        lifetime = app.permanent_session_lifetime
        return Keys(
            session=app.session_interface.get_signing_serializer(app),
            session_max_age=int(lifetime.total_seconds()) if isinstance(lifetime, timedelta) else int(lifetime),
            csrf=URLSafeTimedSerializer(config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, salt=CSRF_SALT),
            csrf_max_age=config.get("WTF_CSRF_TIME_LIMIT", 3600),
        )

    def _answer(self, environ, visit_id: int) -> bytes | None:
        """The reply when the lane saved the answer; None (body put back) to let Flask answer."""
        config = self.app.config
        if not config.get("WTF_CSRF_ENABLED", True) or not config.get("WTF_CSRF_CHECK_DEFAULT", True):
            return None
        if environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower() != "application/json":
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY:
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # the full path reads it again (a short body: as it came)
        if len(raw) != length:
            return None
        session = self._session(environ)
        if session is None or not self._csrf_valid(environ, session):
            return None
        identity = parse_session_id(session.get("_user_id"))
        if identity is None:
            return None
        try:
            given = parse_answer(json.loads(raw))
        except (ValueError, DomainError):
            return None
        saved_at = operations.autosave(self.app, visit_id, given.question_id, identity, value=given.value,
                                       na=given.na, comment=given.comment,
                                       answered_at=given.answered_at or operations.utcnow())
        if saved_at is None:
            return None
        reply = saved_reply(saved_at, given.client_id)
        return (json.dumps(reply, separators=(",", ":"), sort_keys=True) + "\n").encode()  # as Flask's jsonify

    def _session(self, environ) -> dict | None:
        """The signed session as Flask would open it; None when there is none or it does not verify."""
        value = parse_cookie(environ).get(self.app.config["SESSION_COOKIE_NAME"])
        if not value:
            return None
        data = self._verified.get(value, self._keys.session, self._keys.session_max_age)
        return data if isinstance(data, dict) else None

    def _csrf_valid(self, environ, session: dict) -> bool:
        """Flask-WTF's check of a JSON write: a header token signed by us that equals the session's."""
        config = self.app.config
        token = None
        for header in config.get("WTF_CSRF_HEADERS", ["X-CSRFToken", "X-CSRF-Token"]):
            token = environ.get("HTTP_" + header.upper().replace("-", "_"))
            if token:
                break
        expected = session.get(config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        if not token or not isinstance(expected, str):
            return False
        signed = self._verified.get(token, self._keys.csrf, self._keys.csrf_max_age)
        if not isinstance(signed, str) or not hmac.compare_digest(expected, signed):
            return False
        if environ.get("wsgi.url_scheme") == "https" and config.get("WTF_CSRF_SSL_STRICT", True):
            referrer = environ.get("HTTP_REFERER")
            host = get_host("https", environ.get("HTTP_HOST"), None, config.get("TRUSTED_HOSTS"))
            if not referrer or not same_origin(referrer, f"https://{host}/"):
                return False
        return True


class Verified:
    """Signed strings (session cookies, CSRF tokens) already verified, with what they carry.

    A phone sends the same session cookie and token with every answer; checking the signature
    (HMAC) and decoding the payload each time was a fifth of the lane's own work. A string is
    verified by its serializer once and then found by its exact text until it expires (the
    signature's time plus ``max_age``, as ``itsdangerous`` counts it); any other text is verified
    anew. At most ``size`` strings are kept, the oldest dropped first.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._found: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def get(self, text: str, serializer: URLSafeTimedSerializer, max_age: int | None):
        """What ``text`` carries when it verifies, else None."""
        found = self._found.get(text)
        if found is not None and (found[1] is None or time.time() <= found[1]):
            return found[0]
        try:
            payload, signed_at = serializer.loads(text, max_age=max_age, return_timestamp=True)
        except BadData:
            return None
        expires = None if max_age is None else signed_at.timestamp() + max_age
        with self._lock:
            if len(self._found) >= self.size:
                self._found.pop(next(iter(self._found)), None)
            self._found[text] = (payload, expires)
        return payload


def install(app: Flask) -> None:
    """Put the lane in front of the app's WSGI callable."""
    app.wsgi_app = AutosaveLane(app, app.wsgi_app)
