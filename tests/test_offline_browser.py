"""The evaluator's form with no network, in a real browser at phone size (issue 15, offline-first form).

A service worker (served at /sw.js) keeps every section page of a started visit on the phone; the
queue (answers in localStorage, photos in IndexedDB, a queued submit) lives outside its caches.
127.0.0.1 is a secure context, so the service worker runs under the test server.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from audit_app.evidence.models import Photo
from audit_app.extensions import db
from audit_app.submissions.models import Answer
from audit_app.visits.models import Visit

from . import factories
from .conftest import page_login
from .helpers import wait_for
from .test_evidence_browser import camera_photo

READY = "#sq-form[data-ready=true]"


def stored(app, vid):
    with app.app_context():
        db.session.remove()
        answers = {a.question.key: (a.value, a.na, a.comment)
                   for a in db.session.scalars(select(Answer).where(Answer.visit_id == vid))}
        photos = len(db.session.scalars(select(Photo).where(Photo.visit_id == vid)).all())
        visit = db.session.get(Visit, vid)
        return answers, photos, visit.status


def started_visit(app, world, new_page, locale="fi"):
    """A visit started online on a phone, its form kept on the phone by the service worker."""
    with app.app_context():
        evaluator = db.session.merge(world.evaluator)
        evaluator.language = locale
        version = factories.make_version()
        visit = factories.make_visit(db.session.merge(world.client_a), evaluator, version, status="assigned")
        db.session.commit()
        vid = visit.id
        q = {question.key: question.id for question in version.questions()}
    page = new_page(phone=True, locale=locale)
    page_login(page, "eva@t.example")
    page.goto(f"/visits/{vid}/form")
    page.click("#sq-start-form button[type=submit]")
    page.wait_for_selector(READY)
    # the service worker controls the page and every section is stored on the phone
    page.wait_for_function("() => navigator.serviceWorker.controller !== null"
                           " && document.getElementById('sq-form').dataset.kept === 'true'", timeout=20_000)
    return page, vid, q


def state(page) -> str:
    return page.inner_text("#sq-state")


def wait_state(page, text: str) -> None:
    page.wait_for_function("text => document.getElementById('sq-state').textContent === text", arg=text)


def posts(page) -> list[str]:
    """What reaches the server from the page, in order: answer, photo, submit (tries with no network fail)."""
    sent: list[str] = []

    def seen(request):
        if request.method != "POST":
            return
        path = request.url.split("?")[0]
        for kind, pattern in (("answer", r"/answers$"), ("photo", r"/photos$"), ("submit", r"/submit$")):
            if re.search(pattern, path):
                sent.append(kind)

    page.on("requestfinished", seen)
    return sent


def answer_everything_offline(page, q) -> None:
    page.click(f"label[for='q-{q['q1']}-yes']")
    page.fill(f"#q-{q['q2']}", "4")
    page.click(f"label[for='q-{q['q3']}-na']")
    page.click("#sq-next")
    page.wait_for_selector(READY)
    assert "Osio 2/2" in page.inner_text("#sq-progress")
    page.click(f"label[for='q-{q['q4']}-yes']")
    page.click(f"label[for='q-{q['q5']}-yes']")
    page.fill(f"#q-{q['q6']}", "Friendly staff")
    page.locator(f"#q-{q['q6']}").blur()


def attach_photo(page, q) -> None:
    widget = page.locator(f".sq-question[data-question-id='{q['q5']}'] [data-evidence-widget]")
    widget.locator("input.ev-file").set_input_files(
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": camera_photo((1200, 900))})
    widget.locator(".ev-item.ev-pending").wait_for()


def test_a_visit_from_start_to_submit_with_no_network(app, world, new_page):
    page, vid, q = started_visit(app, world, new_page)
    sent = posts(page)

    page.context.set_offline(True)
    page.reload()  # no network: the page comes from the phone
    page.wait_for_selector(READY)
    assert "Osio 1/2 · Tavoitettavuus" in page.inner_text("#sq-progress")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    answer_everything_offline(page, q)
    attach_photo(page, q)
    wait_state(page, "Ei yhteyttä · 6 vastausta ja 1 kuva odottaa")

    # back to the first section and forward again: both pages from the phone, every answer in place
    page.click("#sq-back")
    page.wait_for_selector(READY)
    assert page.is_checked(f"#q-{q['q1']}-yes") and page.input_value(f"#q-{q['q2']}") == "4"
    assert page.is_checked(f"#q-{q['q3']}-na")
    page.click("#sq-next")
    page.wait_for_selector(READY)
    assert page.is_checked(f"#q-{q['q5']}-yes") and page.input_value(f"#q-{q['q6']}") == "Friendly staff"
    # the photo waits in the phone's queue across the page load
    page.locator(f".sq-question[data-question-id='{q['q5']}'] .ev-item.ev-pending").wait_for()

    page.click("#sq-submit")
    page.locator("#sq-submit-queued").wait_for()
    wait_state(page, "Ei yhteyttä · 6 vastausta ja 1 kuva odottaa")
    # nothing is submitted while offline. (Whether an answer's request reached the server is not
    # asserted: Chromium's offline emulation lets a keepalive request leave now and then, which a
    # phone with no network cannot; the phone still counts it as waiting and sends it again.)
    assert stored(app, vid)[1:] == (0, "in_progress")

    # the network returns: the answers, then the photo, then the submit, and the receipt
    with page.expect_navigation(url=re.compile(r"/submitted$"), timeout=30_000):
        page.context.set_offline(False)
    answers, photos, status = stored(app, vid)
    assert answers == {"q1": (True, False, ""), "q2": (4, False, ""), "q3": (None, True, ""),
                       "q4": (True, False, ""), "q5": (True, False, ""), "q6": ("Friendly staff", False, "")}
    assert photos == 1 and status == "submitted"
    assert sent[-1] == "submit" and sent.count("submit") == 1 and sent.count("photo") == 1
    assert sent.index("photo") > max(i for i, kind in enumerate(sent) if kind == "answer")
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('audit:pending:')).length") == 0


def test_a_closed_page_reopens_offline_from_the_start_url(app, world, new_page):
    page, vid, q = started_visit(app, world, new_page)
    context = page.context
    start_url = page.evaluate("() => fetch('/manifest.webmanifest').then(r => r.json()).then(m => m.start_url)")
    assert start_url == "/my/visits"
    page.goto(start_url)  # My visits, stored by the service worker on the way
    page.wait_for_load_state("networkidle")
    context.set_offline(True)
    page.goto(f"/visits/{vid}/form?section=1")
    page.wait_for_selector(READY)
    page.click(f"label[for='q-{q['q1']}-no']")
    page.fill(f"#q-{q['q1']}-comment", "Not on the front page")
    wait_state(page, "Ei yhteyttä · 1 vastaus odottaa")
    page.close()

    again = context.new_page()  # opened from the home screen: the start URL, with no network
    again.goto(start_url)
    again.locator(f".visit-card[data-visit-id='{vid}'] a.btn-primary").click()
    again.wait_for_selector(READY)
    assert again.is_checked(f"#q-{q['q1']}-no")
    assert again.input_value(f"#q-{q['q1']}-comment") == "Not on the front page"
    # (no check that the server has nothing yet: a keepalive request of the closed page leaves the
    # browser process outside Chromium's offline emulation, which a real phone with no network never does)
    context.set_offline(False)
    assert wait_for(lambda: stored(app, vid)[0].get("q1") == (False, False, "Not on the front page"), timeout=20)
    wait_state(again, "Tallennettu")


def test_a_new_service_worker_mid_visit_keeps_the_queue(app, world, new_page):
    page, vid, q = started_visit(app, world, new_page)
    context = page.context
    version = lambda p: p.evaluate(  # noqa: E731
        "() => new Promise(resolve => { const c = new MessageChannel(); c.port1.onmessage = e => resolve(e.data);"
        " navigator.serviceWorker.controller.postMessage('version', [c.port2]); })")
    first = version(page)

    context.set_offline(True)
    page.goto(f"/visits/{vid}/form?section=2")
    page.wait_for_selector(READY)
    page.click(f"label[for='q-{q['q4']}-no']")
    attach_photo(page, q)
    wait_state(page, "Ei yhteyttä · 1 vastaus ja 1 kuva odottaa")

    # a deploy: /sw.js now says another version. The server is reachable again but refuses the
    # answers and photos for a while (as a flaky proxy might), so the queue is still there during the update
    app.config["OFFLINE_VERSION"] = "deployed-later"
    try:
        context.route("**/answers", lambda route: route.abort())
        context.route("**/photos", lambda route: route.abort())
        context.set_offline(False)
        page.reload()
        page.wait_for_selector(READY)
        page.wait_for_function(
            "() => new Promise(resolve => { const c = new MessageChannel(); c.port1.onmessage = e => resolve(e.data === 'deployed-later');"
            " navigator.serviceWorker.controller.postMessage('version', [c.port2]); })", timeout=20_000)
        assert first != "deployed-later"
        # the new version fills its own cache and deletes the old one; the stored form outlives both
        page.wait_for_function(
            "old => caches.keys().then(names => names.includes('audit-static-deployed-later')"
            " && !names.includes('audit-static-' + old) && names.includes('audit-pages'))", arg=first, timeout=20_000)
        # nothing queued was lost: the answer, the photo
        assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('audit:pending:')).length") == 1
        # the server cannot be reached: the bar says offline, with what waits
        wait_state(page, "Ei yhteyttä · 1 vastaus ja 1 kuva odottaa")
        assert page.is_checked(f"#q-{q['q4']}-no")
        assert stored(app, vid)[:2] == ({}, 0)

        # the new version still serves the form with no network
        context.set_offline(True)
        page.goto(f"/visits/{vid}/form?section=1")
        page.wait_for_selector(READY)
        context.set_offline(False)
        context.unroute("**/answers")
        context.unroute("**/photos")
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        assert wait_for(lambda: stored(app, vid)[:2] == ({"q4": (False, False, "")}, 1), timeout=40)
    finally:
        app.config.pop("OFFLINE_VERSION", None)
