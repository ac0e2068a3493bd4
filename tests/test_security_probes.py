"""Security probes (issue 7): other tenants' ids on every route with an id, writes without a CSRF
token, an expired session, a deactivated user, path tricks in photo keys, and HTML or script in
every free-text field, on the pages and in the PDF.

Routes and the objects in their URLs come from ``app.url_map`` and the RULES tables of
``tests/routes_*.py`` (merged in ``tests/helpers.py``): the objects there belong to
client A and to the evaluator "evaluator", so "other_client" and "other_evaluator" are the other
tenants trying those ids.
"""

from __future__ import annotations

import io
import re
import subprocess
import time
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from tests import factories
from tests.factories import jpeg_bytes, make_photo
from tests.helpers import ALL_ROLES, RULES

ID_ROUTES_SKIP = {"static", "bootstrap.static"}
#: objects every evaluator may use, not one evaluator's own: open jobs and quizzes are for the whole
#: pool, and the access table's calibration round has both test evaluators in it
SHARED_WITH_EVALUATORS = {"quality.take_job", "quality.take_quiz", "quality.material"}
FOREIGN = ("other_client", "other_evaluator")
ROLE_OF = {"admin": "admin", "evaluator": "evaluator", "other_evaluator": "evaluator", "client": "client",
           "other_client": "client"}


def _url(app, endpoint, **kw):
    with app.test_request_context():
        return url_for(endpoint, **kw)


def _id_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.arguments and r.endpoint not in ID_ROUTES_SKIP),
                  key=lambda r: r.endpoint)


def _request(browser, rule, url):
    if "GET" in rule.methods:
        return browser.get(url)
    return browser.post(url, {})


def _is_login(response) -> bool:
    """Sent to sign in: the pages redirect there, the JSON API answers 401."""
    if response.status_code == 401 and response.mimetype == "application/problem+json":
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def _refused_body(rule, response) -> bool:
    """The API checks a write's body before it looks the id up: an empty body is a 422 whatever
    the id, so it tells nothing about other tenants' objects."""
    return rule.endpoint.startswith("api.") and response.status_code == 422


# --- other tenants' ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_other_tenants_ids_give_404_or_403_never_200_or_500(app, world, login_as, role):
    browser = login_as(role)
    failures = []
    for rule in _id_rules(app):
        declared, make_args, *_ = RULES[rule.endpoint]
        with app.app_context():
            kwargs = make_args(world)
        url = _url(app, rule.endpoint, **kwargs)
        response = _request(browser, rule, url)
        code = response.status_code
        if code >= 500:
            failures.append(f"{rule.endpoint} as {role}: {code}")
        elif role == "anonymous":
            if not (_is_login(response) or code == 404):
                failures.append(f"{rule.endpoint} as anonymous: {code}, expected sign-in or 404")
        elif role == "other_evaluator" and rule.endpoint in SHARED_WITH_EVALUATORS:
            continue
        elif role in FOREIGN and code not in (403, 404) and not _refused_body(rule, response):
            failures.append(f"{rule.endpoint} as {role} on client A's / the evaluator's object: {code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_ids_that_do_not_exist_are_404_for_everyone(app, world, login_as, role):
    browser = login_as(role)
    failures = []
    for rule in _id_rules(app):
        declared, make_args, *_ = RULES[rule.endpoint]
        with app.app_context():
            kwargs = make_args(world)
        ints = [k for k, v in kwargs.items() if isinstance(v, int) and not isinstance(v, bool)]
        for name in ints:
            bogus = dict(kwargs, **{name: 987654})
            response = _request(browser, rule, _url(app, rule.endpoint, **bogus))
            code = response.status_code
            ok = code in (403, 404) or (role == "anonymous" and _is_login(response)) or _refused_body(rule, response)
            if not ok:
                failures.append(f"{rule.endpoint} with {name}=987654 as {role}: {code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["admin", "evaluator", "client"])
def test_ids_too_large_for_the_database_are_404_not_500(app, world, login_as, role):
    browser = login_as(role)
    failures = []
    for rule in _id_rules(app):
        declared, make_args, *_ = RULES[rule.endpoint]
        with app.app_context():
            kwargs = make_args(world)
        for name, value in kwargs.items():
            if not isinstance(value, int) or isinstance(value, bool) or name not in rule.arguments:
                continue  # ids in the query string: test_numbers_too_large_..._in_bodies_and_queries
            for big in (2**31, 2**63, 2**70):
                url = _url(app, rule.endpoint, **kwargs).replace(f"/{value}", f"/{big}", 1)
                code = _request(browser, rule, url).status_code
                if code not in (403, 404):
                    failures.append(f"{rule.endpoint} with {name}={big} as {role}: {code}")
    assert not failures, "\n".join(failures)


def test_numbers_too_large_for_the_database_in_bodies_and_queries_are_400_not_500(app, world, login_as):
    from audit_app.extensions import db

    with app.app_context():
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                            status="submitted")
        open_visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                          factories.make_version(), status="in_progress")
        db.session.commit()
        visit_id, open_id = visit.id, open_visit.id
    eva, admin = login_as("evaluator"), login_as("admin")
    for big in (2**31, 2**63, 2**70):
        saved = eva.post_json(_url(app, "submissions.save_answer", visit_id=open_id),
                              {"question_id": big, "value": True})
        assert saved.status_code == 400, (big, saved.status_code)
        uploaded = eva.post(_url(app, "evidence.upload", visit_id=open_id),
                            {"file": (io.BytesIO(jpeg_bytes()), "p.jpg"), "question_id": str(big)},
                            content_type="multipart/form-data", headers={"Accept": "application/json"})
        assert uploaded.status_code == 400, (big, uploaded.status_code)
        corrected = admin.post(_url(app, "submissions.correct", visit_id=visit_id),
                               {"question_id": str(big), "value": "yes", "reason": "probe"})
        assert corrected.status_code in (400, 404), (big, corrected.status_code)
        for url in (f"/admin/visits?client_id={big}&evaluator_id={big}", f"/admin/visits?page={big}",
                    _url(app, "submissions.form", visit_id=visit_id) + f"?section={big}"):
            assert admin.get(url).status_code in (200, 400), url
        assert eva.get(_url(app, "submissions.form", visit_id=open_id) + f"?section={big}").status_code == 200


def test_ids_of_one_tenant_mixed_into_another_tenants_url_are_404(app, world, login_as):
    """An admin (who may see both) still cannot pair client B with client A's visit or location."""
    from audit_app.extensions import db

    with app.app_context():
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator))
        location = factories.make_location(db.session.merge(world.client_a), name="Mixed branch")
        draft_a, draft_b = factories.make_version(publish=False), factories.make_version(publish=False)
        db.session.commit()
        ids = dict(visit=visit.id, location=location.id, version_a=draft_a.id,
                   section_b=draft_b.sections[0].id, question_b=draft_b.sections[0].questions[0].id)
    admin = login_as("admin")
    client_b = world.ids["client_b"]
    posts = [
        _url(app, "reports.make_pdf", client_id=client_b, scope="visit", ref=ids["visit"]),
        _url(app, "reports.make_pdf", client_id=client_b, scope="location", ref=ids["location"]),
        _url(app, "checklists.section_edit", version_id=ids["version_a"], section_id=ids["section_b"]),
        _url(app, "checklists.question_edit", version_id=ids["version_a"], question_id=ids["question_b"]),
        _url(app, "checklists.section_delete", version_id=ids["version_a"], section_id=ids["section_b"]),
        _url(app, "checklists.question_delete", version_id=ids["version_a"], question_id=ids["question_b"]),
    ]
    for url in posts:
        assert admin.post(url, {}).status_code == 404, url
    for url in posts[2:4]:
        assert admin.get(url).status_code == 404, url
    client = login_as("client")
    # the client's own id in the URL, another client's visit id: 404
    with app.app_context():
        other = factories.make_scored_visit(db.session.merge(world.client_b), db.session.merge(world.evaluator))
        db.session.commit()
        other_id = other.id
    url = _url(app, "reports.make_pdf", client_id=world.ids["client_a"], scope="visit", ref=other_id)
    assert client.post(url, {}).status_code == 404
    assert client.get(_url(app, "reports.visit_report", visit_id=other_id)).status_code == 404


def test_a_client_does_not_see_its_own_visit_before_approval(app, world, login_as):
    from audit_app.extensions import db

    with app.app_context():
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                            status="submitted")
        db.session.commit()
        visit_id = visit.id
    client = login_as("client")
    assert client.get(_url(app, "reports.visit_report", visit_id=visit_id)).status_code == 404


# --- CSRF -----------------------------------------------------------------------------------------


def _fingerprint(app) -> dict:
    from audit_app.extensions import db

    with app.app_context():
        db.session.remove()
        with db.engine.connect() as conn:
            return {t.name: sorted(repr(tuple(row)) for row in conn.execute(select(t)))
                    for t in db.metadata.sorted_tables}


def _actor(declared) -> str:
    if isinstance(declared, (set, frozenset)):
        for role in ("admin", "evaluator", "client"):
            if role in declared:
                return role
    return "admin"


JSON_WRITES = {"submissions.save_answer", "evidence.update", "evidence.delete"}


def test_writes_without_a_csrf_token_are_refused_and_change_nothing(app, world, login_as):
    browsers = {role: login_as(role) for role in ("admin", "evaluator", "client")}
    targets = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        if "POST" not in rule.methods:
            continue
        declared, make_args, *_ = RULES[rule.endpoint]
        with app.app_context():
            kwargs = make_args(world)
        targets.append((rule.endpoint, _url(app, rule.endpoint, **kwargs), _actor(declared)))
    assert len(targets) > 20
    stranger = login_as("admin").token()  # a valid token, but of another session
    before = _fingerprint(app)
    failures = []
    for endpoint, url, actor in targets:
        browser = browsers[actor]
        attempts = {
            "no token": browser.post(url, {"name": "x", "comment": "x"}, csrf=False),
            "another session's token": browser.post(url, {"csrf_token": stranger, "comment": "x"}),
            "JSON, no header": browser.post_json(url, {"question_id": 1, "value": True, "caption": "x"}, csrf=False),
            "JSON, bad header": browser.post_json(url, {"caption": "x"}, csrf=False,
                                                  headers={"X-CSRFToken": "forged"}),
        }
        for what, response in attempts.items():
            if response.status_code != 400:
                failures.append(f"{endpoint} ({what}) as {actor}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert _fingerprint(app) == before
    # the sessions are still signed in: logging out without a token did not log anyone out
    for role, browser in browsers.items():
        assert not _is_login(browser.get("/account")), role


# --- sessions -------------------------------------------------------------------------------------


def test_an_expired_session_is_sent_to_sign_in(app, world, login_as, monkeypatch):
    from audit_app.extensions import db

    with app.app_context():
        visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                     factories.make_version(), status="in_progress")
        db.session.commit()
        visit_id, question_id = visit.id, visit.checklist_version.questions()[0].id
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=1))
    eva = login_as("evaluator")
    token = eva.token()
    assert eva.get(_url(app, "visits.my_visits")).status_code == 200
    time.sleep(2.2)
    response = eva.get(_url(app, "visits.my_visits"))
    assert _is_login(response), response.status_code
    saved = eva.client.post(_url(app, "submissions.save_answer", visit_id=visit_id),
                            json={"question_id": question_id, "value": True}, headers={"X-CSRFToken": token})
    assert saved.status_code in (302, 400, 401) and saved.status_code != 200
    with app.app_context():
        from audit_app.submissions.models import Answer

        assert db.session.scalar(select(Answer).where(Answer.visit_id == visit_id)) is None


@pytest.mark.parametrize("what", ["user", "client"])
def test_a_deactivated_users_session_is_logged_out(app, world, login_as, what):
    from audit_app.accounts.models import Client, User
    from audit_app.extensions import db

    role = "evaluator" if what == "user" else "client"
    browser = login_as(role)
    page = "/account"
    assert browser.get(page).status_code == 200
    with app.app_context():
        if what == "user":
            db.session.get(User, world.ids["evaluator"]).active = False
        else:
            db.session.get(Client, world.ids["client_a"]).active = False
        db.session.commit()
    assert _is_login(browser.get(page))
    assert _is_login(browser.get(_url(app, "accounts.index")))
    # and cannot sign in again
    again = browser.login(world.emails[role])
    assert again.status_code != 302 or "/login" in again.headers.get("Location", "")


# --- redirects after sign-in and the language switch ------------------------------------------------

OFFSITE = ["//evil.example/", "/\\evil.example/", "/\\/evil.example/", "\\\\evil.example", "https://evil.example/",
           "http:evil.example", "/%5Cevil.example", " //evil.example", "/\t/evil.example", "javascript:alert(1)",
           "\x00//evil.example"]


def _offsite(location: str) -> bool:
    from urllib.parse import urljoin, urlsplit

    # what a browser does with it: backslashes are slashes, tabs and newlines vanish
    cleaned = location.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "").strip()
    target = urlsplit(urljoin("http://localhost/login", cleaned))
    return target.netloc not in ("", "localhost") or target.scheme not in ("http", "https")


def test_no_open_redirect_after_sign_in_or_language_switch(app, world, browser):
    for target in OFFSITE:
        b = type(browser)(app)
        response = b.client.post("/login?next=" + __import__("urllib.parse").parse.quote(target, safe=""),
                                 data={"csrf_token": b.token(), "email": world.emails["admin"],
                                       "password": __import__("tests.conftest").conftest.PASSWORD})
        assert response.status_code == 302
        assert not _offsite(response.headers["Location"]), (target, response.headers["Location"])
        b._token = None  # signing in starts a new session, with a new CSRF token (as the next page shows)
        switched = b.post("/language", {"language": "en", "next": target})
        assert switched.status_code in (302, 303)
        assert not _offsite(switched.headers["Location"]), (target, switched.headers["Location"])


# --- path tricks in photo keys --------------------------------------------------------------------

BAD_KEYS = [
    "../escape.jpg", "visits/../../escape.jpg", "visits/1/../../../etc/passwd", "/etc/passwd", "/absolute.jpg",
    "visits/1/a\x00.jpg", "nul\x00", "visits\\..\\..\\escape.jpg", "..", ".", "visits//1.jpg", "./visits/1.jpg",
    "visits/1/", "", "a" * 2000,
]


def _storages(tmp_path, s3_endpoint):
    from audit_app.evidence.storage import LocalStorage
    from tests.conftest import make_s3_storage

    return {"local": LocalStorage(tmp_path / "store"), "s3": make_s3_storage(s3_endpoint, prefix="probe")}


def test_storage_refuses_path_tricks(tmp_path, s3_endpoint):
    for name, storage in _storages(tmp_path, s3_endpoint).items():
        for key in BAD_KEYS:
            for call in (storage.get, storage.delete, storage.exists):
                with pytest.raises(ValueError):
                    call(key)
            with pytest.raises(ValueError):
                storage.put(key, b"x", "image/jpeg")
        # URL-encoded dots are just characters in a name: stored as such, inside the store
        storage.put("visits/%2e%2e/%2e%2e%2fx.jpg", b"data", "image/jpeg")
        assert storage.get("visits/%2e%2e/%2e%2e%2fx.jpg") == b"data", name
    assert not (tmp_path / "x.jpg").exists()
    inside = list((tmp_path / "store").rglob("*"))
    assert any(p.name == "%2e%2e%2fx.jpg" for p in inside)
    assert all((tmp_path / "store") in p.parents for p in inside)


def test_photo_routes_refuse_path_tricks(app, world, login_as):
    from audit_app.extensions import db

    with app.app_context():
        visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                     factories.make_version(), status="in_progress")
        photo = make_photo(visit, db.session.merge(world.evaluator))
        db.session.commit()
        visit_id, photo_id = visit.id, photo.id
    paths = [
        f"/photos/{photo_id}/../../../etc/passwd", f"/photos/{photo_id}/..%2f..%2fetc%2fpasswd",
        "/photos/..%2f..%2fetc%2fpasswd/thumb", f"/photos/{photo_id}%00/thumb", f"/photos/{photo_id}/thumb%00",
        f"/photos/{photo_id}/thumb/../original", "/photos/-1/thumb", f"/photos/{photo_id}/%2e%2e",
        f"/photos/{photo_id}/storage_key", "/static/../audit_app/config.py", "/static/%2e%2e/audit_app/config.py",
        "/static/..%2faudit_app%2fconfig.py", "/static/%2fetc%2fpasswd", "/static/css/app.css%00.py",
    ]
    for role in ("anonymous", "admin", "evaluator"):
        browser = login_as(role)
        for path in paths:
            response = browser.get(path)
            assert response.status_code in (302, 308, 400, 404), (role, path, response.status_code)
            if response.status_code in (302, 308):  # werkzeug merges slashes: still inside /static/
                location = response.headers.get("Location", "")
                assert "/static/" in location and ".." not in location, (path, location)
            assert b"root:" not in response.data and b"SECRET_KEY" not in response.data
    eva = login_as("evaluator")
    for uid in ("../../etc/passwd", "/abs", "a\x00b", "..%2f..%2fx", "x" * 200):
        response = eva.post(_url(app, "evidence.upload", visit_id=visit_id),
                            {"file": (io.BytesIO(jpeg_bytes()), "../../evil.jpg"), "client_uid": uid},
                            content_type="multipart/form-data", headers={"Accept": "application/json"})
        assert response.status_code == 400, (uid, response.status_code)
    # a file name with path tricks is only a name: the key is the server's own
    response = eva.post(_url(app, "evidence.upload", visit_id=visit_id),
                        {"file": (io.BytesIO(jpeg_bytes()), "../../../etc/passwd.jpg")},
                        content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert response.status_code == 201
    with app.app_context():
        from audit_app.evidence.models import Photo

        stored = db.session.get(Photo, response.get_json()["id"])
        for key in (stored.storage_key, stored.report_key, stored.thumb_key):
            assert ".." not in key and not key.startswith("/") and "passwd" not in key


# --- HTML and script in free text -----------------------------------------------------------------

EVIL = "<script>alert('xss')</script><img src=x onerror=alert(1)><b>bold</b>"
RAW = ("<script>alert('xss')</script>", "<img src=x onerror=alert(1)>", "<b>bold</b>")


def _evil_doc() -> dict:
    t = lambda s: {"en": s, "fi": s}  # noqa: E731
    doc = factories.small_doc()
    doc["title"] = t("Checklist " + EVIL)
    doc["description"] = t("About " + EVIL)
    for section in doc["sections"]:
        section["title"] = t(section["title"]["en"] + " " + EVIL)
        section["guidance"] = t("Section guidance " + EVIL)
        for question in section["questions"]:
            question["prompt"] = t(question["prompt"]["en"] + " " + EVIL)
            question["guidance"] = t("Guidance " + EVIL)
    doc["sections"][0]["questions"].append(
        {"key": "q7", "kind": "choice", "prompt": t("Pick " + EVIL), "guidance": t("Pick one " + EVIL),
         "options": [{"key": "good", "label": t("Good " + EVIL), "fraction": 1.0},
                     {"key": "bad", "label": t("Bad " + EVIL), "fraction": 0.0}]})
    doc["sections"][0]["questions"][2]["min_label"] = t("Low " + EVIL)
    doc["sections"][0]["questions"][2]["max_label"] = t("High " + EVIL)
    return doc


@pytest.fixture
def evil_world(app, world):
    """Every free-text field filled with markup: client, location, checklist, scenario, comments,
    captions, the return comment and a correction reason; visit 1 approved, visit 2 in progress."""
    from audit_app.accounts.models import Client
    from audit_app.extensions import db
    from audit_app.submissions import operations as ops

    with app.app_context():
        client = db.session.get(Client, world.ids["client_a"])
        client.name = "Client A " + EVIL[:80]
        evaluator, admin = db.session.merge(world.evaluator), db.session.merge(world.admin)
        evaluator.name = "Eva " + EVIL[:100]
        factories.make_client_channel(client, channel="phone", label="Line " + EVIL[:90], contact="Call " + EVIL[:60])
        location = factories.make_location(client, name="Branch " + EVIL[:90], city="City " + EVIL[:40],
                                           region="Region " + EVIL[:40])
        from audit_app.checklists.operations import add_dimension

        add_dimension("evil", {"en": "Dim <b>bold</b> $\\nope{$ costs $5", "fi": "Dim <b>bold</b> $\\nope{$"})
        doc = _evil_doc()
        doc["sections"][1]["dimension"] = "evil"
        version = factories.make_version(doc)
        visit = factories.make_visit(client, evaluator, version, status="in_progress", location=location,
                                     channel="in_person", scenario="Scenario " + EVIL)
        for key, value in {**factories.WORKED_EXAMPLE, "q6": "Text answer " + EVIL, "q7": "good"}.items():
            factories.answer(visit, key, value, na=value is None, comment="Comment " + EVIL)
        q5 = next(q for q in version.questions() if q.key == "q5")
        make_photo(visit, evaluator, question_id=q5.id, caption="Caption " + EVIL)
        make_photo(visit, evaluator, caption="Visit caption " + EVIL)
        assert ops.submit_visit(visit, evaluator) == []
        ops.return_visit(visit, admin, "Return comment " + EVIL)
        assert ops.submit_visit(visit, evaluator) == []
        q1 = next(q for q in version.questions() if q.key == "q1")
        ops.correct_answer(visit, q1, admin, value=False, na=False, reason="Reason " + EVIL)
        from audit_app.evidence import jobs
        from audit_app.evidence.models import Photo

        for photo_id in db.session.scalars(db.select(Photo.id).where(Photo.visit_id == visit.id)).all():
            jobs.redact(photo_id)  # faces and plates blurred: approval waits for it (commits)
        ops.approve_visit(visit, admin)
        open_visit = factories.make_visit(client, evaluator, version, status="in_progress",
                                          scenario="Open scenario " + EVIL)
        factories.answer(open_visit, "q1", True, comment="Open comment " + EVIL)
        make_photo(open_visit, evaluator, question_id=q5.id, caption="Open caption " + EVIL)
        open_visit.status = "returned"
        open_visit.return_comment = "Fix this " + EVIL
        db.session.commit()
        return {"visit": visit.id, "open": open_visit.id, "location": location.id, "version": version.id,
                "client": client.id, "sections": len(version.sections)}


def _assert_escaped(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{where}: {raw!r} is not escaped"
    assert "onerror=alert(1)&gt;" in html or "onerror=alert(1)\\u003e" in html or "&lt;script&gt;" in html, \
        f"{where}: the escaped text is not on the page"


def test_markup_in_free_text_is_escaped_on_every_page(app, world, login_as, evil_world):
    w = evil_world
    pages = {
        "evaluator": [_url(app, "visits.my_visits")]
        + [_url(app, "submissions.form", visit_id=w["open"], section=n) for n in range(1, w["sections"] + 1)]
        + [_url(app, "submissions.form", visit_id=w["visit"], section=n) for n in range(1, w["sections"] + 1)],
        "admin": [
            _url(app, "submissions.review", visit_id=w["visit"]),
            _url(app, "visits.visit_detail", visit_id=w["visit"]),
            _url(app, "visits.visit_detail", visit_id=w["open"]),
            _url(app, "visits.visits"),
            _url(app, "visits.locations", client_id=w["client"]),
            _url(app, "visits.channels", client_id=w["client"]),
            _url(app, "visits.clients"),
            _url(app, "accounts.clients"),
            _url(app, "accounts.users"),
            _url(app, "checklists.index"),
            _url(app, "checklists.version", version_id=w["version"]),
            _url(app, "checklists.preview", version_id=w["version"]),
            _url(app, "submissions.form", visit_id=w["visit"]),
            _url(app, "reports.visit_report", visit_id=w["visit"]),
            _url(app, "reports.location_report", location_id=w["location"]),
            _url(app, "reports.client_report", client_id=w["client"]),
            _url(app, "reports.dashboard"),
        ],
        "client": [
            _url(app, "reports.dashboard"),
            _url(app, "reports.visit_report", visit_id=w["visit"]),
            _url(app, "reports.location_report", location_id=w["location"]),
            _url(app, "reports.client_report", client_id=w["client"]),
            _url(app, "reports.channel_report", client_id=w["client"], channel="in_person"),
        ],
    }
    for role, urls in pages.items():
        browser = login_as(role)
        for url in urls:
            response = browser.get(url)
            assert response.status_code == 200, (role, url, response.status_code)
            _assert_escaped(response.get_data(as_text=True), f"{url} as {role}")
    # the exports carry the text as data, not as markup that a spreadsheet or browser would run
    client = login_as("client")
    for kind in ("visits",):
        export = client.get(_url(app, "reports.export", client_id=w["client"], kind=kind, fmt="csv"))
        assert export.status_code == 200
        assert export.mimetype != "text/html"


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


@pytest.mark.parametrize("scope", ["visit", "location", "client"])
def test_markup_in_free_text_is_literal_text_in_the_pdf(app, evil_world, tmp_path, scope):
    from audit_app.extensions import db
    from audit_app.reports import operations, rendering

    w = evil_world
    ref = {"visit": str(w["visit"]), "location": str(w["location"]), "client": ""}[scope]
    with app.test_request_context():
        from audit_app.reports.queries import default_period

        start, end = default_period()
        report = operations.build_report(scope, w["client"], ref, start, end, "en")
        pdf = rendering.render_pdf(report)
        db.session.remove()
    assert pdf.startswith(b"%PDF")
    text = re.sub(r"\s+", " ", _pdf_text(pdf, tmp_path))
    assert "<script>alert('xss')</script>" in text or "<script>alert(’xss’)</script>" in text, text[:2000]
    assert "<b>bold</b>" in text


def test_a_wrong_method_is_405_but_a_huge_id_under_another_methods_rule_is_404(app, world, login_as):
    """Werkzeug answers 405 when another method's rule has the path's shape even though its converter
    refuses the id; nothing is there for any method, so it is a 404. A real wrong method stays 405."""
    admin = login_as("admin")
    client_id = world.ids["client_a"]
    assert admin.post(f"/api/v1/clients/{client_id}/actions/x", {}).status_code == 404
    assert admin.client.delete(f"/api/v1/clients/{client_id}/actions").status_code == 405  # GET and POST exist
    assert admin.post(f"/api/v1/clients/{2**31}/actions", {}).status_code == 404
    assert admin.get(f"/api/v1/clients/{2**31}/actions").status_code == 404
