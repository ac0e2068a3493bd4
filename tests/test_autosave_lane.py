"""The autosave's lane (``submissions.lane``): a WSGI middleware that takes the common answer before
Flask's request machinery. It may only say yes where the full path would: every request it does not
take (no or a bad session or CSRF token, a foreign referrer over HTTPS, another kind of body) goes
on to Flask whole, which refuses it with its own status and message, and nothing is written.

``fast`` records each call of ``operations.autosave`` (the lane's statement): ``[]`` means the lane
declined before touching the database. On SQLite the lane stands aside and the same outcomes come
from the full path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from audit_app.submissions import lane as lane_module
from audit_app.submissions.lane import AutosaveLane, Verified

from .test_autosave_fast_path import fast, moment, save, setup, stored, warm  # noqa: F401 (fixtures)


def _tamper(signed: str) -> str:
    """``signed`` with one character of its signature changed (not the last: base64's padding bits
    can make a changed last character decode to the same bytes)."""
    i = len(signed) - 5
    return signed[:i] + ("A" if signed[i] != "A" else "B") + signed[i + 1:]


def _answer_url(ids):
    return f"/visits/{ids['visit']}/answers"


def test_the_lane_answers_as_the_full_path_does(app, login_as, setup, fast):  # noqa: F811
    b = login_as("evaluator")
    fast.clear()
    full = save(b, setup["visit"], setup["q"]["q1"], True, moment(0))  # first answer: the full path
    assert full.status_code == 200 and fast == fast.fell_through
    fast.clear()
    quick = save(b, setup["visit"], setup["q"]["q1"], False, moment(1))
    assert quick.status_code == 200 and fast.wrote == fast.on_postgresql
    assert quick.get_json().keys() == full.get_json().keys() == {"ok", "saved_at", "client_id"}
    assert quick.get_json()["client_id"] == "c-1" and quick.get_json()["saved_at"].endswith("Z")
    for name in ("Content-Type", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Vary"):
        assert quick.headers.get(name) == full.headers.get(name), name
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is False


@pytest.mark.parametrize("token", ["none", "garbage", "another session's", "signed by someone else"])
def test_a_missing_or_foreign_csrf_token_is_refused_and_writes_nothing(app, login_as, setup, fast,  # noqa: F811
                                                                     token):
    b = login_as("evaluator")
    warm(b, setup)
    headers = {}
    if token == "garbage":
        headers["X-CSRFToken"] = "not-a-token"
    elif token == "another session's":
        headers["X-CSRFToken"] = login_as("evaluator").token()
    elif token == "signed by someone else":
        headers["X-CSRFToken"] = URLSafeTimedSerializer("another-secret", salt="wtf-csrf-token").dumps("x" * 40)
    fast.clear()
    payload = {"question_id": setup["q"]["q1"], "value": False, "na": False, "comment": "", "answered_at": moment(1)}
    r = b.post_json(_answer_url(setup), payload, csrf=False, headers=headers)
    assert r.status_code == 400
    assert fast == []
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is True


def test_a_tampered_session_cookie_is_not_signed_in(app, login_as, setup, fast):  # noqa: F811
    b = login_as("evaluator")
    warm(b, setup)
    token = b.token()
    cookie = b.client.get_cookie("session")
    b.client.set_cookie("session", _tamper(cookie.value), domain=cookie.domain, path=cookie.path)
    fast.clear()
    payload = {"question_id": setup["q"]["q1"], "value": False, "na": False, "comment": "", "answered_at": moment(1)}
    r = b.post_json(_answer_url(setup), payload, csrf=False, headers={"X-CSRFToken": token})
    assert r.status_code in (302, 400, 401)  # Flask: no session, so no CSRF token to match either
    assert fast == []
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is True


def test_other_bodies_go_on_to_the_full_path(app, login_as, setup, fast):  # noqa: F811
    b = login_as("evaluator")
    warm(b, setup)
    url = _answer_url(setup)
    headers = {"X-CSRFToken": b.token()}
    fast.clear()
    body = json.dumps({"question_id": setup["q"]["q1"], "value": False, "answered_at": moment(1)})
    as_text = b.client.post(url, data=body, content_type="text/plain", headers=headers)
    assert as_text.status_code == 400 and as_text.get_json()["code"] == "bad_request"
    broken = b.client.post(url, data=b'{"question_id": 1, "value": tr', content_type="application/json",
                           headers=headers)
    assert broken.status_code == 400 and broken.get_json()["code"] == "bad_request"
    not_utf8 = b.client.post(url, data=b'{"comment": "\xff\xfe"}', content_type="application/json", headers=headers)
    assert not_utf8.status_code == 400
    assert fast == []
    # a body past the lane's limit: the full path reads it and names what is wrong
    payload = {"question_id": setup["q"]["q1"], "value": False, "na": False, "comment": "x" * 70_000,
               "answered_at": moment(2)}
    too_long = b.post_json(url, payload)
    assert too_long.status_code == 400 and too_long.get_json()["code"] == "invalid"
    assert "5000" in too_long.get_json()["error"]  # "... at most 5000 characters", in the user's language
    assert fast == []
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is True


def test_a_charset_in_the_content_type_still_takes_the_lane(app, login_as, setup, fast):  # noqa: F811
    b = login_as("evaluator")
    warm(b, setup)
    fast.clear()
    body = json.dumps({"question_id": setup["q"]["q1"], "value": False, "na": False, "comment": "",
                       "answered_at": moment(1)})
    r = b.client.post(_answer_url(setup), data=body.encode(), content_type="application/json; charset=utf-8",
                      headers={"X-CSRFToken": b.token()})
    assert r.status_code == 200 and fast.wrote == fast.on_postgresql
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is False


@pytest.mark.parametrize("referrer,status", [(None, 400), ("https://evil.example/visits/1/form", 400),
                                             ("https://localhost/visits/1/form", 200)])
def test_over_https_the_referrer_must_be_ours(app, login_as, setup, fast, referrer, status):  # noqa: F811
    """Flask-WTF's strict check over HTTPS: the lane takes only what it would let through."""
    b = login_as("evaluator")
    warm(b, setup)
    headers = {"X-CSRFToken": b.token()}
    if referrer:
        headers["Referer"] = referrer
    fast.clear()
    payload = {"question_id": setup["q"]["q1"], "value": False, "na": False, "comment": "", "answered_at": moment(1)}
    r = b.client.post(_answer_url(setup), json=payload, headers=headers, base_url="https://localhost")
    assert r.status_code == status
    if status == 200:
        assert fast.wrote == fast.on_postgresql
        assert stored(app, setup["visit"], setup["q"]["q1"]).value is False
    else:
        assert fast == []
        assert stored(app, setup["visit"], setup["q"]["q1"]).value is True


def test_the_lane_stands_aside_on_sqlite():
    from audit_app import create_app

    on_sqlite = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    on_postgresql = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1/x"})
    assert isinstance(on_sqlite.wsgi_app, AutosaveLane) and not on_sqlite.wsgi_app.enabled
    assert isinstance(on_postgresql.wsgi_app, AutosaveLane) and on_postgresql.wsgi_app.enabled


# --- the memory of verified strings --------------------------------------------------------------


def test_a_remembered_string_expires_as_its_signature_does(monkeypatch):
    serializer = URLSafeTimedSerializer("secret", salt="s")
    verified = Verified()
    text = serializer.dumps({"_user_id": "1:abc"})
    assert verified.get(text, serializer, 60) == {"_user_id": "1:abc"}
    later = datetime.now(UTC) + timedelta(seconds=120)
    monkeypatch.setattr(lane_module.time, "time", lambda: later.timestamp())
    assert verified.get(text, serializer, 60) is None  # expired: itsdangerous refuses it again
    assert verified.get(text, serializer, None) == {"_user_id": "1:abc"}  # no limit: still good


def test_a_string_that_does_not_verify_is_never_remembered():
    serializer = URLSafeTimedSerializer("secret", salt="s")
    verified = Verified()
    text = serializer.dumps("token")
    forged = URLSafeTimedSerializer("other", salt="s").dumps("token")
    assert verified.get(forged, serializer, None) is None
    assert verified.get(forged, serializer, None) is None
    assert verified.get(_tamper(text), serializer, None) is None
    assert verified.get(text, serializer, None) == "token"


def test_the_memory_is_bounded():
    serializer = URLSafeTimedSerializer("secret", salt="s")
    verified = Verified(size=3)
    texts = [serializer.dumps(n) for n in range(5)]
    for n, text in enumerate(texts):
        assert verified.get(text, serializer, None) == n
    assert len(verified._found) == 3 and texts[0] not in verified._found and texts[4] in verified._found
