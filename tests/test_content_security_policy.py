"""Every response carries a Content-Security-Policy that allows nothing inline.

The browser tests fail on any violation the browser reports (the ``new_page`` fixture in
conftest.py); ``test_a_violation_fails_the_browser_test`` shows that they do.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit_app.core.http import content_security_policy
from audit_app.extensions import db

from . import factories

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "connect-src": {"'self'"},
    "img-src": {"'self'", "data:", "blob:"},
}


def directives(policy: str) -> dict[str, set[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} twice in {policy!r}"
        parsed[name] = set(sources)
    return parsed


def assert_strict(response) -> dict[str, set[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.request.path}"
    found = directives(policy)
    for name, sources in REQUIRED.items():
        if name in ("img-src", "connect-src"):  # and the photo store when it is S3
            assert sources <= found.get(name, set()), (name, found.get(name))
        else:
            assert found.get(name) == sources, (name, found.get(name))
    every_source = set().union(*found.values())
    assert not every_source & {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:"}
    assert not any(source.startswith(("'nonce-", "'sha")) for source in every_source)
    return found


def test_every_kind_of_response_carries_the_policy(app, world, login_as):
    with app.app_context():
        visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                     factories.make_version(), status="submitted")
        db.session.commit()
        vid = visit.id

    anonymous = login_as("anonymous")
    pages = {
        anonymous: ["/login", "/static/js/app.js", "/static/css/app.css", "/no-such-page", "/dashboard"],
        login_as("evaluator"): ["/my/visits", f"/visits/{vid}/form"],
        login_as("admin"): [f"/admin/visits/{vid}", f"/admin/visits/{vid}/review", "/admin/review"],
        login_as("client"): ["/dashboard", "/account"],
    }
    for who, urls in pages.items():
        for url in urls:
            response = who.get(url)
            assert response.status_code in (200, 302, 404), (url, response.status_code)
            assert_strict(response)
    # a JSON answer and a refused form post carry it too
    json_reply = login_as("evaluator").post_json(f"/visits/{vid}/answers", {"answers": {}})
    assert_strict(json_reply)
    assert_strict(anonymous.post("/login", {"email": "nobody@t.example", "password": "wrong"}, csrf=False))


def test_the_other_security_headers_stay(login_as):
    response = login_as("anonymous").get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_local_storage_allows_images_only_from_the_app_data_and_blob():
    found = directives(content_security_policy({"STORAGE_BACKEND": "local"}))
    assert found["img-src"] == {"'self'", "data:", "blob:"}


def test_an_s3_endpoint_is_allowed_for_images_and_the_service_workers_fetches_only():
    policy = content_security_policy({
        "STORAGE_BACKEND": "s3", "S3_BUCKET": "evidence", "S3_ENDPOINT_URL": "http://127.0.0.1:9000/",
    })
    found = directives(policy)
    assert found["img-src"] == {"'self'", "data:", "blob:", "http://127.0.0.1:9000"}
    assert found["connect-src"] == {"'self'", "http://127.0.0.1:9000"}  # a thumbnail's redirect, for the worker
    for name, sources in found.items():
        if name not in ("img-src", "connect-src"):
            assert not any("127.0.0.1" in source for source in sources), name


def test_aws_s3_allows_the_bucket_hosts():
    found = directives(content_security_policy({"STORAGE_BACKEND": "s3", "S3_BUCKET": "evidence", "S3_REGION": "eu-north-1"}))
    assert found["img-src"] == {"'self'", "data:", "blob:", "https://evidence.s3.amazonaws.com",
                                "https://evidence.s3.eu-north-1.amazonaws.com"}
    dotted = directives(content_security_policy({"STORAGE_BACKEND": "s3", "S3_BUCKET": "my.photos", "S3_REGION": "eu-north-1"}))
    assert "https://s3.eu-north-1.amazonaws.com" in dotted["img-src"]


def test_the_policy_follows_the_app_configuration():
    from audit_app import create_app

    s3_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "STORAGE_BACKEND": "s3",
                         "S3_BUCKET": "evidence", "S3_ENDPOINT_URL": "http://127.0.0.1:9000"})
    response = s3_app.test_client().get("/static/css/app.css")
    found = assert_strict(response)
    assert "http://127.0.0.1:9000" in found["img-src"]


# --- the pages themselves: nothing inline for the policy to refuse ---------------------------

PAGE_TEMPLATES = sorted(p for p in (ROOT / "templates").rglob("*.html") if "pdf" not in p.relative_to(ROOT).parts)
INLINE = [
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "inline script"),
    (re.compile(r"<style[\s>]", re.I), "style element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"""=\s*["']?\s*javascript:""", re.I), "javascript: URL"),
]


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_page_templates_have_nothing_inline(template):
    text = re.sub(r"{#.*?#}", "", template.read_text(encoding="utf-8"), flags=re.S)  # not the comments
    problems = [f"{what}: {m.group(0)!r}" for pattern, what in INLINE for m in pattern.finditer(text)]
    assert not problems, problems


def test_page_scripts_set_no_style_attribute():
    """``el.setAttribute("style", ...)`` and ``innerHTML`` with a style attribute are refused too;
    ``el.style.width = ...`` (the CSSOM) is allowed."""
    for script in (ROOT / "static" / "js").glob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"""setAttribute\(\s*["']style|\bstyle\s*:\s*["']|style=""", text), script.name
        assert not re.search(r"\beval\(|new Function\(", text), script.name
