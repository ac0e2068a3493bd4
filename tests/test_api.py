"""API tokens and /api/v1: tokens made on the account page act with their user's rights; clients see
only their released results; revoked or expired tokens get 401, read tokens cannot write; errors are
problem documents; rate limits answer 429 with RateLimit headers."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest

from audit_app.accounts import tokens
from audit_app.core.models import utcnow
from audit_app.extensions import db
from tests.factories import make_scored_visit, make_version, make_visit


def _make_token(app, user_id, scope="read write"):
    from audit_app.accounts.models import User

    with app.app_context():
        token, secret = tokens.create_token(db.session.get(User, user_id), name="BI", scope=scope,
                                            expires_on=date.today() + timedelta(days=30))
        db.session.commit()
        return token.id, secret


def _auth(secret):
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def visits(app, world):
    with app.app_context():
        version = make_version()
        approved_a = make_scored_visit(world.client_a, world.evaluator, version)
        submitted_a = make_scored_visit(world.client_a, world.evaluator, version, status="submitted")
        approved_b = make_scored_visit(world.client_b, world.evaluator2, version)
        assigned_a = make_visit(world.client_a, world.evaluator, version)
        db.session.commit()
        return {"approved_a": approved_a.id, "submitted_a": submitted_a.id, "approved_b": approved_b.id,
                "assigned_a": assigned_a.id}


def test_token_made_on_the_account_page_is_shown_once_and_kept_hashed(app, world, login_as):
    browser = login_as("client")
    page = browser.get("/account").get_data(as_text=True)
    assert "API" in page
    response = browser.post("/account/tokens/new", {"name": "Power BI", "scope": "read",
                                                    "expires_on": (date.today() + timedelta(days=10)).isoformat()})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(oe_[^"]+)"', response.get_data(as_text=True)).group(1)
    with app.app_context():
        row = db.session.query(tokens.ApiToken).one()
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in row.token_hash
    listing = browser.get("/account").get_data(as_text=True)
    assert "Power BI" in listing and secret not in listing
    # a bad expiry is a form error, nothing saved
    bad = browser.post("/account/tokens/new", {"name": "x", "scope": "read", "expires_on": "2000-01-01"})
    assert bad.status_code == 400
    with app.app_context():
        assert db.session.query(tokens.ApiToken).count() == 1


def test_client_token_sees_only_its_released_results(app, world, visits):
    _id, secret = _make_token(app, world.ids["client_user"], scope="read")
    client = app.test_client()
    listed = client.get("/api/v1/visits", headers=_auth(secret))
    assert listed.status_code == 200
    assert [v["id"] for v in listed.json["items"]] == [visits["approved_a"]]
    assert listed.json["items"][0]["evaluator_id"] is None
    assert "scenario" not in listed.json["items"][0]
    assert "RateLimit-Limit" in listed.headers and "RateLimit-Remaining" in listed.headers
    results = client.get(f"/api/v1/visits/{visits['approved_a']}/results", headers=_auth(secret))
    assert results.status_code == 200
    assert results.json["overall"] == pytest.approx(100 / 3)
    assert {a["question_key"] for a in results.json["answers"]} >= {"q1", "q2", "q4"}
    for other in (visits["approved_b"], visits["submitted_a"]):
        for url in (f"/api/v1/visits/{other}", f"/api/v1/visits/{other}/results"):
            refused = client.get(url, headers=_auth(secret))
            assert refused.status_code == 404
            assert refused.mimetype == "application/problem+json"
            assert refused.json["status"] == 404
    assert client.get(f"/api/v1/clients/{world.ids['client_b']}/locations", headers=_auth(secret)).status_code == 404


def test_revoked_expired_and_unknown_tokens_get_401(app, world, visits):
    token_id, secret = _make_token(app, world.ids["admin"])
    client = app.test_client()
    assert client.get("/api/v1/visits", headers=_auth(secret)).status_code == 200
    with app.app_context():
        row = db.session.get(tokens.ApiToken, token_id)
        assert row.last_used_at is not None
        tokens.revoke_token(row)
        db.session.commit()
    refused = client.get("/api/v1/visits", headers=_auth(secret))
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    token_id, secret = _make_token(app, world.ids["admin"])
    with app.app_context():
        db.session.get(tokens.ApiToken, token_id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/visits", headers=_auth(secret)).status_code == 401
    assert client.get("/api/v1/visits", headers=_auth("oe_nonsense")).status_code == 401
    # Finnish, like the pages
    fi = client.get("/api/v1/visits", headers={**_auth("oe_x"), "Accept-Language": "fi"})
    assert fi.status_code == 401


def test_read_token_cannot_write_and_write_token_needs_no_csrf(app, world, visits):
    _id, read = _make_token(app, world.ids["admin"], scope="read")
    _id, write = _make_token(app, world.ids["admin"])
    client = app.test_client()
    url = f"/api/v1/visits/{visits['assigned_a']}/cancel"
    assert client.post(url, json={}, headers=_auth(read)).status_code == 403
    done = client.post(url, json={"comment": "Not needed"}, headers=_auth(write))
    assert done.status_code == 200 and done.json["status"] == "cancelled"
    again = client.post(url, json={}, headers=_auth(write))
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    bad = client.post("/api/v1/visits", json={"client_id": "x"}, headers=_auth(write))
    assert bad.status_code == 422
    assert bad.json["errors"]["client_id"] == ["Enter a whole number."] or bad.json["errors"]["client_id"]


def test_cookie_session_writes_need_csrf(app, world, visits, login_as):
    browser = login_as("admin")
    url = f"/api/v1/visits/{visits['assigned_a']}/cancel"
    assert browser.post_json(url, {}, csrf=False).status_code == 400
    assert browser.post_json(url, {}).status_code == 200


def test_admin_creates_and_reassigns_a_visit(app, world):
    _id, write = _make_token(app, world.ids["admin"])
    with app.app_context():
        version_id = make_version().id
        db.session.commit()
    client = app.test_client()
    body = {"client_id": world.ids["client_a"], "channel": "phone", "checklist_version_id": version_id,
            "evaluator_id": world.ids["evaluator"], "due_from": "2026-12-01", "due_to": "2026-12-10"}
    made = client.post("/api/v1/visits", json=body, headers=_auth(write))
    assert made.status_code == 201, made.json
    moved = client.post(f"/api/v1/visits/{made.json['id']}/reassign", json={"evaluator_id": world.ids["evaluator2"]},
                        headers=_auth(write))
    assert moved.status_code == 200 and moved.json["evaluator_id"] == world.ids["evaluator2"]
    # a domain refusal keeps the pages' message
    wrong = client.post("/api/v1/visits", json={**body, "due_to": "2026-11-01"},
                        headers=_auth(write))
    assert wrong.status_code == 400
    assert wrong.json["detail"] == "Loppupäivä ei voi olla ennen alkupäivää."  # the user's language, as the pages
    # an evaluator token cannot create
    _id, evaluator = _make_token(app, world.ids["evaluator"])
    assert client.post("/api/v1/visits", json=body, headers=_auth(evaluator)).status_code == 403


def test_cursor_pagination_and_updated_since(app, world, visits):
    _id, secret = _make_token(app, world.ids["admin"], scope="read")
    client = app.test_client()
    seen, cursor = [], None
    while True:
        url = "/api/v1/visits?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=_auth(secret)).json
        seen += [v["id"] for v in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(visits.values()) and len(seen) == len(set(seen))
    future = (utcnow() + timedelta(days=1)).isoformat()
    assert client.get(f"/api/v1/visits?updated_since={future}", headers=_auth(secret)).json["items"] == []
    assert client.get("/api/v1/visits?cursor=!!!", headers=_auth(secret)).status_code == 422


def test_rate_limit_answers_429(app, world):
    _id, secret = _make_token(app, world.ids["admin"], scope="read")
    client = app.test_client()
    old = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "2 per minute"
    try:
        statuses = [client.get("/api/v1/clients", headers=_auth(secret)) for _ in range(3)]
    finally:
        app.config["API_RATE_LIMIT"] = old
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].mimetype == "application/problem+json"
    assert "Retry-After" in statuses[2].headers
    assert statuses[0].headers["RateLimit-Limit"] == "2"


def test_openapi_description_and_reference_page(app, world):
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    assert "/api/v1/visits" in spec["paths"] and "/api/v1/visits/{visit_id}/results" in spec["paths"]
    page = client.get("/api/v1/")
    assert page.status_code == 200 and "/api/v1/visits" in page.get_data(as_text=True)
