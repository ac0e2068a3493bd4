"""The whole journey of the three roles in a real browser, under real conditions.

The app runs under gunicorn (a subprocess) on PostgreSQL (database ``test_journey``, rebuilt by
the migrations) with photos on a local S3 server (moto). An admin builds and publishes a
checklist in the designer and assigns a visit (in English through the visit form, in Finnish
as a wave); an evaluator on a phone answers it with a photo
and submits; the admin returns it with a comment; the evaluator fixes an answer and resubmits;
the admin approves; the client sees the right score on the dashboard, in the location report
and in its PDF. The same journey runs in Finnish and in English.

Expected score, by hand (DESIGN.md section 4), from the answers given below:

* Section 1 "Reachability" (dimension reachability, weight 2):
  q1 yes/no w1 answered yes -> 1; q2 scale 1..5 w1 answered 4 (after the fix; first 2) -> 0.75.
  S1 = 100 * (1 + 0.75) / 2 = 87.5
* Section 2 "Empathy" (dimension empathy, weight 1):
  q3 yes/no w1 answered yes -> 1; q4 yes/no w2 answered no -> 0 (failed; its photo and caption
  appear beside it in the report).
  S2 = 100 * (1 + 0) / 3 = 33.33...
* V = (2 * 87.5 + 1 * 33.33...) / 3 = 69.444... -> shown 69.4, grade "Needs improvement".
  Before the fix (q2 = 2 -> 0.25): S1 = 62.5, V = (125 + 33.33) / 3 = 52.8.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest

from .conftest import AWS_ENV, free_port, make_s3_storage, own_postgresql_database, require_service, watch_csp

ROOT = Path(__file__).resolve().parent.parent
PG_HOST, PG_PORT = "127.0.0.1", 5432
DB_NAME = os.environ.get("JOURNEY_DB_NAME", "test_journey")
DB_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{DB_NAME}"
PASSWORD = "journey-password-123"
PHONE = {"width": 390, "height": 844}
BUCKET = "journey-evidence"

EXPECTED_BEFORE_FIX = "52.8"
CAPTION = {"fi": "Nimikyltti puuttui", "en": "No name badge"}
EXPECTED = "69.4"

# visible texts asserted in the language of the run (the Finnish ones are translated catalogue entries)
TEXTS = {
    "fi": {
        "sign_in": "Kirjaudu sisään",
        "start": "Aloita käynti",
        "submitted": "Kiitos! Käynti on lähetetty.",
        "returned": "Tarkastaja palautti käynnin:",
        "return": "Palauta arvioijalle",
        "approve": "Hyväksy",
        "publish": "Julkaise",
        "grade": "Kehitettävää",
    },
    "en": {
        "sign_in": "Sign in",
        "start": "Start the visit",
        "submitted": "Thank you. The visit was submitted.",
        "returned": "The reviewer returned this visit:",
        "return": "Return to the evaluator",
        "approve": "Approve",
        "publish": "Publish",
        "grade": "Needs improvement",
    },
}


# --- the server: gunicorn on PostgreSQL with S3 on moto -------------------------------------


def _ensure_database() -> None:
    import psycopg

    own_postgresql_database(DB_NAME, PG_HOST, PG_PORT)
    with psycopg.connect(DB_URL, autocommit=True) as conn:  # start from nothing: the migrations build it all
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer at {url}:\n{log.read_text()[-3000:]}")


SEED = """
import sys
from audit_app import create_app
from audit_app.accounts import operations
from audit_app.extensions import db

lang, password = sys.argv[1], sys.argv[2]
app = create_app()
with app.app_context():
    client = operations.create_client(f"Journey Oy {lang}")
    common = dict(password=password, must_change_password=False, language=lang)
    operations.create_user(email=f"admin-{lang}@journey.example", name=f"Ada Admin {lang}", role="admin", **common)
    operations.create_user(email=f"eva-{lang}@journey.example", name=f"Eeva Secretshopper {lang}",
                           role="evaluator", **common)
    operations.create_user(email=f"client-{lang}@journey.example", name=f"Cecilia Client {lang}", role="client",
                           client=client, **common)
    db.session.commit()
"""


@pytest.fixture(scope="module")
def journey_server(s3_endpoint):
    """gunicorn serving ``wsgi:app`` on 127.0.0.1 with PostgreSQL and S3 (moto); yields (base URL, env)."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    _ensure_database()
    make_s3_storage(s3_endpoint, bucket=BUCKET)  # creates the bucket
    instance = Path(tempfile.mkdtemp(prefix="journey-instance-"))
    env = {
        **os.environ,
        **AWS_ENV,
        "DATABASE_URL": DB_URL,
        "AUDIT_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "journey-secret-key",
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": BUCKET,
        "S3_PREFIX": "journey",
        "S3_REGION": "us-east-1",
        "S3_ENDPOINT_URL": s3_endpoint,
        "REDIS_URL": "",
    }
    env.pop("FLASK_APP", None)
    migrate = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=180)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    port = free_port()
    log = instance / "gunicorn.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
             "--timeout", "120", "--access-logfile", "-", "--error-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base + "/login", proc, log)
        yield base, env, log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def seed(env: dict, lang: str) -> None:
    result = subprocess.run([sys.executable, "-c", SEED, lang, PASSWORD], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]


def photo_bytes() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 900), (40, 120, 200))
    ImageDraw.Draw(image).rectangle((200, 200, 1000, 700), fill=(250, 200, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# --- small page helpers --------------------------------------------------------------------


class Journey:
    def __init__(self, engine, base: str, lang: str, server_log: Path):
        self.engine, self.base, self.lang, self.log = engine, base, lang, server_log
        self.t = TEXTS[lang]
        self.contexts = []
        self.errors: list[str] = []

    def page(self, phone: bool = False):
        options = {"locale": self.lang, "base_url": self.base, "accept_downloads": True}
        if phone:
            options.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        context = self.engine.new_context(**options)
        context.set_default_timeout(30_000)  # the whole journey on a busy two-core machine
        watch_csp(context, self.errors)  # a Content-Security-Policy violation fails the journey too
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("response", lambda r: r.status >= 500 and self.errors.append(f"{r.status} {r.url}"))
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console on {page.url}: {m.text}"))
        return page

    def login(self, page, who: str) -> None:
        page.goto("/login")
        assert page.locator("html").get_attribute("lang") == self.lang
        assert self.t["sign_in"] in page.inner_text("h1")
        page.fill("input[name=email]", f"{who}-{self.lang}@journey.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit], form input[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/login" not in page.url, page.inner_text("main") if page.locator("main").count() else page.content()

    def close(self):
        for context in self.contexts:
            context.close()


def submit_form(page, selector: str = "main form[method=post]") -> None:
    """Submit a form and check that it was accepted (the page moved on, no field error)."""
    before = page.url
    with page.expect_navigation():
        page.locator(selector).last.locator("button[type=submit], input[type=submit]").last.click()
    problems = page.locator(".invalid-feedback, .alert-danger")
    assert page.url != before, problems.all_inner_texts() or page.inner_text("main")


def no_problems(page) -> None:
    """No field error on the page."""
    problems = page.locator(".invalid-feedback:visible, .is-invalid")
    assert problems.count() == 0, problems.all_inner_texts()


def wait_saved(page) -> None:
    page.wait_for_function("() => document.getElementById('sq-form').dataset.pending === '0'")


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def build_checklist(page, lang: str) -> None:
    """The admin builds the two-section checklist in the designer and publishes it."""
    page.goto("/admin/checklists/new")
    page.fill("#title_fi", f"Matkan tarkistuslista {lang}")
    page.fill("#title_en", f"Journey checklist {lang}")
    submit_form(page, "main form[method=post]")
    no_problems(page)
    assert re.search(r"/admin/checklists/versions/\d+$", page.url), page.url
    version_url = page.url

    sections = [
        ("reach", "Tavoitettavuus", "Reachability", "reachability", "2", [
            dict(key="answered", kind="yes_no", fi="Vastattiinko puheluun?", en="Was the call answered?"),
            dict(key="friendly", kind="scale", fi="Kuinka ystävällinen palvelu oli?", en="How friendly was the service?"),
        ]),
        ("care", "Empatia", "Empathy", "empathy", "1", [
            dict(key="greeted", kind="yes_no", fi="Tervehdittiinkö sinua?", en="Were you greeted?", photo="allowed"),
            dict(key="named", kind="yes_no", fi="Kertoiko myyjä nimensä?", en="Did the seller tell their name?",
                 weight="2", photo="allowed"),
        ]),
    ]
    for key, title_fi, title_en, dimension, weight, questions in sections:
        page.goto(version_url)
        with page.expect_navigation():
            page.locator("a[href$='/sections/new']").click()
        page.fill("#title_fi", title_fi)
        page.fill("#title_en", title_en)
        page.select_option("#dimension", dimension)
        page.fill("#weight", weight)
        page.fill("#guidance_fi", "Toimi kuten tavallinen asiakas.")
        page.fill("#guidance_en", "Act as an ordinary customer.")
        page.fill("#key", key)
        submit_form(page, "main form[method=post]")
        no_problems(page)
        for q in questions:
            section = page.locator("section.card", has_text=title_en if lang == "en" else title_fi)
            with page.expect_navigation():
                section.locator("a[href*='/questions/new']").click()
            page.select_option("#kind", q["kind"])
            page.fill("#prompt_fi", q["fi"])
            page.fill("#prompt_en", q["en"])
            page.fill("#guidance_fi", "Kuuntele tarkasti ja kirjaa mitä tapahtui.")
            page.fill("#guidance_en", "Listen carefully and note what happened.")
            if q["kind"] == "scale":
                page.fill("#scale_min", "1")
                page.fill("#scale_max", "5")
                page.fill("#min_label_fi", "Tyly")
                page.fill("#min_label_en", "Rude")
                page.fill("#max_label_fi", "Lämmin")
                page.fill("#max_label_en", "Warm")
            page.fill("#weight", q.get("weight", "1"))
            if not page.is_checked("#required"):
                page.check("#required")
            page.select_option("#photo", q.get("photo", "none"))
            page.fill("#key", q["key"])
            submit_form(page, "#question-form")
            no_problems(page)
            assert (q["en"] if lang == "en" else q["fi"]) in page.inner_text("main")

    # the preview shows the draft as the evaluator will see it
    page.goto(version_url + "/preview?channel=in_person")
    preview = page.inner_text("main")
    for *_, questions in sections:
        for q in questions:
            assert (q["en"] if lang == "en" else q["fi"]) in preview

    # publish
    page.goto(version_url)
    with page.expect_navigation():  # publishing asks first: it freezes the version
        page.get_by_role("link", name=TEXTS[lang]["publish"]).click()
    with page.expect_navigation():
        page.click("#publish-confirm")
    assert page.locator(".alert-danger").count() == 0, page.locator(".alert-danger").all_inner_texts()
    assert page.locator("form[action$='/retire']").count() == 1, page.inner_text("main")


# --- the journey ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_three_roles_end_to_end(journey_server, chromium, lang):
    base, env, log = journey_server
    seed(env, lang)
    j = Journey(chromium, base, lang, log)  # the session's browser: one Playwright per process
    try:
        _journey(j, lang)
    except BaseException:
        print(f"--- the end of the server log ({log}) ---\n" + log.read_text()[-4000:])
        raise
    finally:
        j.close()
    assert not j.errors, j.errors


def _journey(j: Journey, lang: str) -> None:
    t = j.t
    client_name = f"Journey Oy {lang}"
    location_name = f"Kauppakatu {lang}"

    # 1. the admin builds and publishes the checklist, adds a location and a channel, assigns a visit
    admin = j.page()
    j.login(admin, "admin")
    build_checklist(admin, lang)

    admin.goto("/admin/locations-and-channels")
    with admin.expect_navigation():
        admin.locator("tr, li, .card", has_text=client_name).locator("a[href*='/locations']").first.click()
    client_id = int(re.search(r"/admin/clients/(\d+)/", admin.url).group(1))
    admin.goto(f"/admin/clients/{client_id}/locations/new")
    admin.fill("#name", location_name)
    admin.fill("#address", "Kauppakatu 1")
    admin.fill("#city", "Tampere")
    admin.fill("#region", "Pirkanmaa")
    submit_form(admin, "main form[method=post]")
    assert location_name in admin.inner_text("main")

    admin.goto(f"/admin/clients/{client_id}/channels/new")
    admin.select_option("#channel", "in_person")
    admin.fill("#label", f"Myymälä {lang}")
    admin.fill("#contact", "Kauppakatu 1, Tampere")
    submit_form(admin, "main form[method=post]")
    assert f"Myymälä {lang}" in admin.inner_text("main")

    title = f"Journey checklist {lang}" if lang == "en" else f"Matkan tarkistuslista {lang}"
    scenario = "Kysy lahjakortista." if lang == "fi" else "Ask about a gift card."
    today = date.today()
    if lang == "en":  # one visit through the visit form
        admin.goto(f"/admin/visits/new?client_id={client_id}")
        admin.select_option("#channel", "in_person")
        admin.select_option("#location_id", label=f"{location_name}, Tampere")
        admin.select_option("#client_channel_id", index=1)
        version_option = admin.locator("#checklist_version_id option", has_text=title)
        assert version_option.count() == 1, admin.inner_html("#checklist_version_id")
        admin.select_option("#checklist_version_id", version_option.get_attribute("value"))
        admin.select_option("#evaluator_id", label=f"Eeva Secretshopper {lang}")
        admin.fill("#due_from", today.isoformat())
        admin.fill("#due_to", (today + timedelta(days=7)).isoformat())
        admin.fill("#scenario", scenario)
        submit_form(admin, "main form[method=post]")
        match = re.search(r"/admin/visits/(\d+)$", admin.url)
        assert match, (admin.url, admin.inner_text("main"))
        visit_id = int(match.group(1))
    else:  # a wave of one location and one channel
        admin.goto(f"/admin/waves/new?client_id={client_id}")
        admin.fill("#name", f"Syksy {today.year}")
        version_option = admin.locator("#checklist_version_id option", has_text=title)
        assert version_option.count() == 1, admin.inner_html("#checklist_version_id")
        admin.select_option("#checklist_version_id", version_option.get_attribute("value"))
        admin.fill("#period_start", today.isoformat())
        admin.fill("#period_end", (today + timedelta(days=7)).isoformat())
        admin.check("#channels-in_person")
        admin.get_by_label(location_name).check()
        admin.get_by_label(f"Eeva Secretshopper {lang}").check()
        admin.fill("#scenario", scenario)
        submit_form(admin, "main form[method=post]")
        visit_id = None

    # 2. the evaluator, on a phone, starts the visit, answers, adds a photo and submits
    eva = j.page(phone=True)
    j.login(eva, "eva")
    eva.goto("/my/visits")
    if visit_id is None:  # made by the wave: the evaluator's only visit
        assert eva.locator("[data-visit-id]").count() == 1
        visit_id = int(eva.locator("[data-visit-id]").first.get_attribute("data-visit-id"))
    card = eva.locator(f"[data-visit-id='{visit_id}']")
    assert scenario in card.inner_text()
    assert eva.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with eva.expect_navigation():
        card.locator("a.btn").click()
    with eva.expect_navigation():
        eva.get_by_role("button", name=t["start"]).click()
    eva.wait_for_selector("#sq-form[data-ready=true]")
    assert eva.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    q = {el.get_attribute("data-key") or el.get_attribute("data-question-key"): el.get_attribute("data-question-id")
         for el in eva.locator("[data-question-id][data-kind]").all()}
    eva.click(f"label[for='q-{q['answered']}-yes']")
    eva.click(f"label[for='q-{q['friendly']}-2']")
    eva.fill(f"#q-{q['friendly']}-comment", "Vähän kiireinen." if lang == "fi" else "A bit hurried.")
    wait_saved(eva)
    with eva.expect_navigation():
        eva.click("#sq-next")
    eva.wait_for_selector("#sq-form[data-ready=true]")
    q.update({el.get_attribute("data-key") or el.get_attribute("data-question-key"): el.get_attribute("data-question-id")
              for el in eva.locator("[data-question-id][data-kind]").all()})
    eva.click(f"label[for='q-{q['greeted']}-yes']")
    eva.click(f"label[for='q-{q['named']}-no']")
    wait_saved(eva)
    # a photo beside the failed answer, with a caption
    widget = eva.locator(f".sq-question[data-question-id='{q['named']}'] [data-evidence-widget]")
    widget.locator("input.ev-file").set_input_files(
        files=[{"name": "front-desk.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}])
    widget.locator(".ev-item[data-photo-id]").first.wait_for()
    eva.wait_for_function(
        "el => { const img = el.querySelector('.ev-item img'); return img && img.complete && img.naturalWidth > 0 }",
        arg=widget.element_handle())
    with eva.expect_response(lambda r: "/caption" in r.url and r.request.method == "POST") as caption_saved:
        widget.locator(".ev-item .ev-caption").fill(CAPTION[lang])
        widget.locator(".ev-item .ev-caption").press("Tab")
    assert caption_saved.value.ok
    wait_saved(eva)
    with eva.expect_navigation():
        eva.click("#sq-submit")
    assert t["submitted"] in eva.inner_text("body")
    assert eva.locator("#submitted-receipt").count() == 1  # the receipt: when, what went in, what next

    # 3. the admin reviews and returns the visit with a comment
    admin.goto(f"/admin/visits/{visit_id}/review")
    assert admin.inner_text("#score-overall").strip() == EXPECTED_BEFORE_FIX
    review_photos = admin.locator("main img[src*='/photos/']")
    assert review_photos.count() >= 1
    # served from S3 through a presigned URL, and really shown
    admin.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=review_photos.first.element_handle())
    comment = ("Tarkista ystävällisyyden arvio: kommenttisi mukaan palvelu oli hyvää."
               if lang == "fi" else "Check the friendliness rating: your comment says the service was good.")
    admin.fill("#return-comment", comment)
    with admin.expect_navigation():
        admin.get_by_role("button", name=t["return"]).click()
    admin.goto(f"/admin/visits/{visit_id}/review")
    assert comment in admin.inner_text("main")

    # 4. the evaluator sees the comment, fixes the answer and resubmits
    eva.goto("/my/visits")
    assert comment in eva.locator(f"[data-visit-id='{visit_id}']").inner_text()
    eva.goto(f"/visits/{visit_id}/form")
    eva.wait_for_selector("#sq-form[data-ready=true]")
    assert t["returned"] in eva.inner_text("#return-comment")
    assert comment in eva.inner_text("#return-comment")
    assert eva.is_checked(f"#q-{q['friendly']}-2")
    eva.click(f"label[for='q-{q['friendly']}-4']")
    wait_saved(eva)
    with eva.expect_navigation():
        eva.click("#sq-next")
    eva.wait_for_selector("#sq-form[data-ready=true]")
    assert eva.locator(f".sq-question[data-question-id='{q['named']}'] .ev-item[data-photo-id]").count() == 1
    with eva.expect_navigation():
        eva.click("#sq-submit")
    assert t["submitted"] in eva.inner_text("body")

    # 5. the admin approves
    admin.goto(f"/admin/visits/{visit_id}/review")
    assert admin.inner_text("#score-overall").strip() == EXPECTED
    with admin.expect_navigation():
        admin.get_by_role("button", name=t["approve"], exact=True).click()
    admin.goto(f"/admin/visits/{visit_id}/review")
    assert admin.locator("form[action$='/approve']").count() == 0

    # 6. the client sees the score on the dashboard, opens the location report and downloads its PDF
    client = j.page()
    j.login(client, "client")
    client.goto("/dashboard")
    main = client.inner_text("main")
    assert client.inner_text("[data-testid=overall]").strip() == EXPECTED, main
    assert t["grade"] in main, main
    # the dimension scores: reachability = S1 = 87.5, empathy = S2 = 33.3
    assert "87.5" in main and "33.3" in main, main
    assert "Eeva" not in client.content() and "Secretshopper" not in client.content()
    with client.expect_navigation():
        client.locator("main a[href*='/reports/locations/']", has_text=location_name).first.click()
    main = client.inner_text("main")
    assert client.inner_text(".score-hero").strip() == EXPECTED, main
    assert location_name in main and t["grade"] in main, main
    assert CAPTION[lang] in main, main
    report_photo = client.locator("main img[src*='/photos/']").first
    client.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=report_photo.element_handle())
    assert "Secretshopper" not in client.content()
    with client.expect_download(timeout=60_000) as info:  # made in the request: the file in one step
        client.locator("form[action*='/pdf/location/'] button[type=submit]").click()
    download = info.value
    data = Path(download.path()).read_bytes()
    (j.log.parent / f"location-report-{lang}.pdf").write_bytes(data)  # kept beside the server log to look at
    assert data[:5] == b"%PDF-"
    text = pdf_text(data)
    assert EXPECTED in text, text[:2000]
    assert "87.5" in text and "33.3" in text, text[:3000]  # the dimension scores
    # the failed item with its photo (read by the renderer from S3) and caption
    assert CAPTION[lang] in text, text
    from pypdf import PdfReader

    assert sum(len(p.images) for p in PdfReader(io.BytesIO(data)).pages) >= 1, "no photo in the PDF"
    assert t["grade"] in text
    assert location_name in text
    assert "Secretshopper" not in text
