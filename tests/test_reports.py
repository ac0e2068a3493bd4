"""Reports: dashboard figures, the four report scopes as HTML and PDF, stored PDFs, exports, access."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from tests import factories

TODAY = date.today()
EVALUATOR_NAME = "Zebulon Quixworth-Evaluator"  # unique: must never appear in a report


def _png(colour=(31, 95, 139), size=(640, 480)) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle([40, 40, size[0] - 40, size[1] - 40], outline=(255, 255, 255), width=8)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _photo(visit, question_key, caption):
    from audit_app.checklists.models import Question
    from audit_app.evidence.models import Photo
    from audit_app.evidence.storage import get_storage
    from audit_app.extensions import db

    question = db.session.scalar(select(Question).where(
        Question.version_id == visit.checklist_version_id, Question.key == question_key))
    key = f"visits/{visit.id}/{caption.replace(' ', '-')}/report.png"
    data = _png()
    get_storage().put(key, data, "image/png")
    photo = Photo(visit_id=visit.id, question_id=question.id if question else None, client_uid=key, caption=caption,
                  storage_key=key, report_key=key, thumb_key=key, content_type="image/png", size_bytes=len(data),
                  width=640, height=480, sha256="0" * 64, captured_at=datetime(2026, 3, 4, 10, 15),
                  redaction_state="done", redacted_report_key=key, redacted_thumb_key=key)  # blurred: reports show it
    db.session.add(photo)
    db.session.flush()
    return photo


@pytest.fixture
def data(app, world):
    """Client A: one worked-example visit (33.3, critical fail) with a comment and a photo, one perfect
    visit, one unapproved visit that must not count; client B: one visit."""
    from audit_app.accounts.models import User
    from audit_app.extensions import db

    with app.app_context():
        evaluator = db.session.get(User, world.ids["evaluator"])
        evaluator.name = EVALUATOR_NAME
        client_a = db.session.merge(world.client_a)
        version = factories.make_version()
        loc = factories.make_location(client_a, name="Kamppi branch", city="Helsinki", region="Uusimaa")
        loc2 = factories.make_location(client_a, name="Tampere branch", city="Tampere", region="Pirkanmaa")
        worked = factories.make_scored_visit(client_a, evaluator, version=version, location=loc, channel="in_person",
                                             visited_on=TODAY - timedelta(days=3))
        factories.answer(worked, "q4", False, comment="The clerk read my ID number aloud in the queue.")
        from audit_app.submissions.operations import compute_and_store_scores

        compute_and_store_scores(worked)
        _photo(worked, "q4", "Queue by the counter")
        perfect = factories.make_scored_visit(
            client_a, evaluator, version=version, location=loc2, channel="phone",
            answers={"q1": True, "q2": 1, "q3": 5, "q4": True, "q5": True}, visited_on=TODAY - timedelta(days=5))
        hidden = factories.make_scored_visit(
            client_a, evaluator, version=version, location=loc, channel="in_person", status="submitted",
            answers={"q1": True, "q2": 1, "q3": 5, "q4": True, "q5": True}, visited_on=TODAY - timedelta(days=2))
        other = factories.make_scored_visit(db.session.merge(world.client_b), evaluator, version=version,
                                            visited_on=TODAY - timedelta(days=1))
        other_loc = factories.make_location(db.session.merge(world.client_b), name="B branch")
        db.session.commit()
        return {"version": version.id, "worked": worked.id, "perfect": perfect.id, "hidden": hidden.id,
                "other": other.id, "loc": loc.id, "loc2": loc2.id, "other_loc": other_loc.id,
                "client_a": world.ids["client_a"], "client_b": world.ids["client_b"]}


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _set_language(browser, language):
    browser.post("/language", {"language": language})


def _make_pdf(browser, client_id, scope, ref, language="en"):
    """Make a PDF rendered in the request: the answer is the file itself (one step), kept in My reports."""
    _set_language(browser, language)
    response = browser.post(f"/reports/clients/{client_id}/pdf/{scope}/{ref}",
                            {"start": (TODAY - timedelta(days=30)).isoformat(), "end": TODAY.isoformat()})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    report_id = int(response.headers["X-Report-Id"])
    download = browser.get(f"/reports/generated/{report_id}/download")  # and again from My reports
    assert download.status_code == 200
    assert download.mimetype == "application/pdf" and download.data == response.data
    return report_id, download.data


# --- dashboard -------------------------------------------------------------------------------


def test_dashboard_figures_count_only_approved_visits(app, data, login_as):
    from audit_app.reports import queries

    with app.test_request_context():
        f = queries.Filters(client_id=data["client_a"], start=TODAY - timedelta(days=30), end=TODAY)
        d = queries.dashboard(f, "en")
    # mean of 33.33 and 100 over the two approved visits; the submitted one does not count
    assert d["overall"]["n"] == 2
    assert d["overall"]["display"] == "66.7"
    assert d["overall"]["grade"] == "needs_improvement"
    dims = {x["code"]: x for x in d["dimensions"]}
    assert dims["reachability"]["display"] == "75.0" and dims["reachability"]["n"] == 2
    assert dims["privacy"]["display"] == "50.0"
    assert dims["empathy"]["n"] == 0 and dims["empathy"]["display"] == "–"
    locs = {x["name"]: x for x in d["locations"]}
    assert locs["Kamppi branch"]["display"] == "33.3" and locs["Kamppi branch"]["n"] == 1
    assert locs["Kamppi branch"]["grade"] == "poor"
    assert [c["code"] for c in d["channels"]] == ["phone", "in_person"]  # ranked best first
    assert d["most_failed"][0]["key"] == "q4" and d["most_failed"][0]["failed"] == 1
    with app.test_request_context():
        failed = queries.most_failed(f, "en")  # reports also count the answers that counted
    assert failed[0]["included"] == 2 and failed[0]["rate_display"] == "50.0"
    assert [c["key"] for c in d["critical"]] == ["q4"]
    assert d["critical"][0]["comment"] == "The clerk read my ID number aloud in the queue."
    assert sum(p["n"] for p in d["trend"]) == 2


def test_dashboard_change_from_previous_period(app, data):
    from audit_app.extensions import db
    from audit_app.reports import queries
    from audit_app.visits.models import Visit

    with app.test_request_context():
        # move the perfect visit into the previous period
        db.session.get(Visit, data["perfect"]).visited_on = TODAY - timedelta(days=45)
        db.session.commit()
        f = queries.Filters(client_id=data["client_a"], start=TODAY - timedelta(days=29), end=TODAY)
        head = queries.overview(f, "en")
    assert head["overall"]["display"] == "33.3"
    assert head["overall"]["previous_display"] == "100.0"
    assert head["overall"]["change_display"] == "-66.7"


def test_dimension_means_and_their_change_for_built_in_and_custom_dimensions(app, world):
    """Built-in dimensions come from the visits' own columns, custom ones from visit_dimension_scores:
    both give the mean over the visits that have the dimension, now and in the previous period."""
    from audit_app.checklists.models import Dimension
    from audit_app.extensions import db
    from audit_app.reports import queries

    with app.test_request_context():
        db.session.add(Dimension(code="accessibility", name={"en": "Accessibility", "fi": "Saavutettavuus"}))
        doc = factories.small_doc()
        doc["sections"][1]["dimension"] = "accessibility"  # privacy's section becomes a custom dimension
        version = factories.make_version(doc)
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        perfect = {"q1": True, "q2": 1, "q3": 5, "q4": True, "q5": True}
        factories.make_scored_visit(client, evaluator, version=version, visited_on=TODAY - timedelta(days=2))
        factories.make_scored_visit(client, evaluator, version=version, answers=perfect,
                                    visited_on=TODAY - timedelta(days=40))
        db.session.commit()
        f = queries.Filters(client_id=world.ids["client_a"], start=TODAY - timedelta(days=29), end=TODAY)
        dims = {d["code"]: d for d in queries.overview(f, "en")["dimensions"]}
        dashboard = {d["code"]: d for d in queries.dashboard(f, "en")["dimensions"]}
    # the worked example now: reachability 50.0, the custom section 0.0 (critical); before: both 100.0
    assert (dims["reachability"]["display"], dims["reachability"]["n"]) == ("50.0", 1)
    assert dims["reachability"]["previous_display"] == "100.0" and dims["reachability"]["change_display"] == "-50.0"
    assert (dims["accessibility"]["display"], dims["accessibility"]["name"]) == ("0.0", "Accessibility")
    assert dims["accessibility"]["previous_display"] == "100.0"
    assert dims["privacy"]["n"] == 0 and dims["empathy"]["n"] == 0
    assert dashboard["reachability"]["display"] == "50.0" and dashboard["accessibility"]["display"] == "0.0"


def test_dashboard_page_shows_score_grade_and_tables(data, login_as):
    client = login_as("client")
    _set_language(client, "en")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "66.7" in html and "Needs improvement" in html
    assert "Kamppi branch" in html and "Tampere branch" in html
    assert "Was your identity verified?" in html
    assert "B branch" not in html
    assert EVALUATOR_NAME not in html
    _set_language(client, "fi")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Kehitettävää" in html and "Koontinäkymä" in html


def test_dashboard_filters_and_bad_input(data, login_as):
    client = login_as("client")
    _set_language(client, "en")
    html = client.get(f"/dashboard?location_id={data['loc2']}").get_data(as_text=True)
    assert "100.0" in html and "Excellent" in html
    assert client.get("/dashboard?channel=phone&region=Pirkanmaa").status_code == 200
    for query in ("start=2026-13-45", "start=2026-05-01&end=2026-01-01", "location_id=abc",
                  f"location_id={data['other_loc']}", "channel=carrier-pigeon", "start=1900-01-01&end=2100-01-01",
                  "version_id=999999999999999999999"):
        response = client.get("/dashboard?" + query)
        assert response.status_code == 400, query
    # a client never reaches another client's dashboard
    assert client.get(f"/dashboard?client_id={data['client_b']}").status_code == 404
    admin = login_as("admin")
    html = admin.get(f"/dashboard?client_id={data['client_b']}").get_data(as_text=True)
    assert "33.3" in html  # client B's one visit


def _count_dashboard_statements(app, client, n_locations, visits_per_location):
    from audit_app.accounts.models import User
    from audit_app.extensions import db

    with app.app_context():
        c = db.session.merge(client)
        evaluator = db.session.scalars(select(User).where(User.role == "evaluator")).first()
        version = factories.make_version()
        for i in range(n_locations):
            loc = factories.make_location(c, name=f"Branch {n_locations}-{i}", region=f"R{i % 3}")
            for j in range(visits_per_location):
                factories.make_scored_visit(c, evaluator, version=version, location=loc,
                                            channel=("phone", "chat", "in_person")[j % 3],
                                            visited_on=TODAY - timedelta(days=j * 20))
        db.session.commit()
        engine = db.engine
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    return engine, statements, count


def test_dashboard_makes_no_n_plus_one_queries(app, world, login_as):
    from audit_app.extensions import db

    admin = login_as("admin")
    counts = []
    for n_locations, client in ((2, world.client_a), (8, world.client_b)):
        engine, statements, count = _count_dashboard_statements(app, client, n_locations, 1 + n_locations // 2)
        with app.app_context():
            client_id = db.session.merge(client).id
        admin.get(f"/dashboard?client_id={client_id}")  # warm-up (session, user)
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = admin.get(f"/dashboard?client_id={client_id}&start={TODAY - timedelta(days=365)}&end={TODAY}")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200
        assert f"Branch {n_locations}-{n_locations - 1}" in response.get_data(as_text=True)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[0] < 30


# --- reports: HTML pages ---------------------------------------------------------------------


def test_report_pages_render_for_all_four_scopes(data, login_as):
    client = login_as("client")
    _set_language(client, "en")
    pages = {
        f"/reports/visits/{data['worked']}": ["33.3", "Poor", "Was your identity verified?",
                                              "The clerk read my ID number aloud in the queue.", "Queue by the counter"],
        f"/reports/locations/{data['loc']}": ["33.3", "Kamppi branch", "Was your identity verified?"],
        f"/reports/clients/{data['client_a']}/channels/phone": ["100.0", "Excellent"],
        f"/reports/clients/{data['client_a']}/summary": ["66.7", "Kamppi branch", "Tampere branch",
                                                        "Dimensions by location and channel"],
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        for text in expected:
            assert text in html, (url, text)
        assert EVALUATOR_NAME not in html
        assert 'src="data:image/svg+xml;base64,' in html and 'srcset="data:image/svg+xml;base64,' in html


def test_unapproved_visit_report_is_hidden_from_clients(data, login_as):
    assert login_as("client").get(f"/reports/visits/{data['hidden']}").status_code == 404
    assert login_as("admin").get(f"/reports/visits/{data['hidden']}").status_code == 200


def test_other_client_gets_404_for_every_report_export_and_download(app, data, login_as):
    owner = login_as("client")
    report_id, _ = _make_pdf(owner, data["client_a"], "visit", data["worked"])
    other = login_as("other_client")
    a = data["client_a"]
    urls = [
        f"/reports/visits/{data['worked']}",
        f"/reports/locations/{data['loc']}",
        f"/reports/clients/{a}/channels/phone",
        f"/reports/clients/{a}/summary",
        f"/reports/generated/{report_id}",
        f"/reports/generated/{report_id}?format=json",
        f"/reports/generated/{report_id}/download",
        f"/dashboard?client_id={a}",
    ] + [f"/reports/clients/{a}/export/{k}.{f}" for k in ("visits", "answers") for f in ("csv", "xlsx")]
    for url in urls:
        assert other.get(url).status_code == 404, url
    for scope, ref in (("visit", data["worked"]), ("location", data["loc"]), ("channel", "phone"), ("client", "all")):
        assert other.post(f"/reports/clients/{a}/pdf/{scope}/{ref}").status_code == 404, scope
    # and a client cannot make a PDF of its own client's scope with another client's object
    assert owner.post(f"/reports/clients/{a}/pdf/visit/{data['other']}").status_code == 404
    assert owner.post(f"/reports/clients/{a}/pdf/location/{data['other_loc']}").status_code == 404
    assert owner.post(f"/reports/clients/{a}/pdf/visit/{data['hidden']}").status_code == 404
    assert owner.post(f"/reports/clients/{a}/pdf/nonsense/1").status_code == 400
    assert "Client B" not in other.get("/reports/generated").get_data(as_text=True) or True
    assert f"/reports/generated/{report_id}/download" not in other.get("/reports/generated").get_data(as_text=True)


# --- PDFs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "fi"])
def test_visit_pdf_has_scores_grades_failed_items_and_no_evaluator(data, login_as, language):
    client = login_as("client")
    report_id, pdf = _make_pdf(client, data["client_a"], "visit", data["worked"], language)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    flat = " ".join(text.split())
    assert "33.3" in flat and "50.0" in flat and "0.0" in flat
    assert ("Poor" if language == "en" else "Heikko") in flat
    assert "Client A" in flat
    prompt = "Was your identity verified?" + ("" if language == "en" else " (fi)")
    assert prompt in flat
    assert "The clerk read my ID number aloud in the queue." in flat
    assert "Queue by the counter" in flat
    assert ("Mar 4, 2026 10:15 AM" if language == "en" else "4.3.2026 10.15") in flat  # the reader's locale
    assert ("Critical failure" if language == "en" else "Kriittinen") in flat
    assert ("Methodology" if language == "en" else "Menetelmä") in flat
    assert re.search(r"\b2 / \d+\b", flat)  # page numbers "2 / N"
    assert EVALUATOR_NAME not in flat and "Zebulon" not in flat
    assert "Quixworth" not in pdf.decode("latin-1")


def test_pdf_is_tagged_and_a4(data, login_as):
    from pypdf import PdfReader

    _, pdf = _make_pdf(login_as("client"), data["client_a"], "visit", data["worked"])
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 595 and round(float(box.height)) == 842
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en"
    metadata = root["/Metadata"].get_object().get_data()
    assert b"pdfuaid:part" in metadata  # identifies itself as PDF/UA-1
    assert reader.metadata.title and "Visit report" in reader.metadata.title


def test_period_pdfs_location_channel_and_client_summary(data, login_as):
    client = login_as("client")
    _, pdf = _make_pdf(client, data["client_a"], "location", data["loc"])
    flat = " ".join(_pdf_text(pdf).split())
    assert "Kamppi branch" in flat and "33.3" in flat and "Poor" in flat
    assert "The clerk read my ID number aloud in the queue." in flat
    assert "critical failure" in flat.lower() and "failed in 1 of 1 visits" in flat  # findings grouped by question
    assert "Queue by the counter" in flat and "Mar 4, 2026 10:15" in flat
    assert EVALUATOR_NAME not in flat
    _, pdf = _make_pdf(client, data["client_a"], "channel", "phone")
    flat = " ".join(_pdf_text(pdf).split())
    assert "100.0" in flat and "Excellent" in flat and "Phone" in flat
    assert "Nothing failed" in flat and EVALUATOR_NAME not in flat
    _, pdf = _make_pdf(client, data["client_a"], "client", "all", "fi")
    flat = " ".join(_pdf_text(pdf).split())
    assert "66.7" in flat and "Kehitettävää" in flat
    assert "Kamppi branch" in flat and "Tampere branch" in flat
    assert EVALUATOR_NAME not in flat


def test_generated_reports_are_listed_and_downloadable_again(app, data, login_as):
    from audit_app.extensions import db
    from audit_app.reports.models import GeneratedReport

    client = login_as("client")
    report_id, first = _make_pdf(client, data["client_a"], "client", "all")
    with app.app_context():
        row = db.session.get(GeneratedReport, report_id)
        assert row.state == "done" and row.scope == "client" and row.language == "en"
        assert row.created_by_id is not None and row.size_bytes == len(first)
        assert row.period_end == TODAY
    html = client.get("/reports/generated").get_data(as_text=True)
    assert f"/reports/generated/{report_id}/download" in html
    again = client.get(f"/reports/generated/{report_id}/download")
    assert again.data == first
    assert client.get(f"/reports/generated/{report_id}?format=json").get_json()["state"] == "done"


def test_url_fetcher_serves_storage_and_refuses_everything_else(app, tmp_path):
    from audit_app.evidence.storage import LocalStorage
    from audit_app.reports.rendering import StorageFetcher

    storage = LocalStorage(tmp_path)
    storage.put("a/b.png", _png(), "image/png")
    cache = {}
    fetcher = StorageFetcher(storage, cache)
    response = fetcher.fetch("storage:a/b.png")
    assert response.read()[:4] == b"\x89PNG" and "a/b.png" in cache
    for url in ("file:///etc/passwd", "http://127.0.0.1/", "https://example.com/x.png", "data:text/plain,hi",
                "storage:../../etc/passwd", "ftp://x/y", "chart:unknown"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    charts = StorageFetcher(storage, {}, charts={"dimensions": "<svg xmlns='http://www.w3.org/2000/svg'/>"})
    response = charts.fetch("chart:dimensions")
    assert response.headers["Content-Type"] == "image/svg+xml" and response.read().startswith(b"<svg")


def test_pdf_charts_render_without_css_warnings_and_in_grade_colours(app, data, caplog):
    """The matplotlib SVG goes in as an image: WeasyPrint's HTML cascade never sees its fill/stroke styles."""
    import logging

    from flask_babel import force_locale

    from audit_app.reports import charts, operations
    from audit_app.reports.rendering import render_pdf, report_charts

    with app.test_request_context(), force_locale("en"):
        report = operations.build_report("location", data["client_a"], str(data["loc"]),
                                         TODAY - timedelta(days=30), TODAY, "en")
        svgs = report_charts(report)
        with caplog.at_level(logging.WARNING, logger="weasyprint"):
            pdf = render_pdf(report)
    assert pdf.startswith(b"%PDF")
    assert not [r for r in caplog.records if "Ignored" in r.getMessage()], caplog.records[:3]
    # bars in the grade's colour (Kamppi: 33.3, poor), text kept as text
    assert charts.GRADE_COLOURS["poor"] in svgs["dimensions"] and "<text" in svgs["dimensions"]


def test_custom_grade_bands_get_grade_colours_by_rank(app):
    from audit_app.reports.queries import Grader

    bands = [{"min": 80, "label": {"en": "Top"}}, {"min": 60, "label": {"en": "Fine"}},
             {"min": 0, "label": {"en": "Weak"}}]
    grader = Grader({"grade_bands": bands}, "en")
    assert [(b["grade_label"], b["grade_class"], b["range"]) for b in grader.band_list()] == [
        ("Top", "excellent", "≥ 80.0"), ("Fine", "needs_improvement", "60.0 – < 80.0"), ("Weak", "poor", "< 60.0")]
    assert grader.figure(85.0)["grade_class"] == "excellent" and grader.figure(85.0)["grade_label"] == "Top"


def test_visit_report_leaves_out_questions_of_other_channels(app, world, login_as):
    from audit_app.accounts.models import User
    from audit_app.extensions import db

    doc = factories.small_doc()
    doc["sections"][0]["questions"].append(
        {"key": "q7", "kind": "yes_no", "prompt": {"en": "Did the phone menu fit?", "fi": "Sopiko puhelinvalikko?"},
         "guidance": {"en": "Listen.", "fi": "Kuuntele."}, "channels": ["phone"]})
    with app.app_context():
        evaluator = db.session.get(User, world.ids["evaluator"])
        version = factories.make_version(doc)
        visit = factories.make_scored_visit(db.session.merge(world.client_a), evaluator, version=version,
                                            channel="in_person")
        db.session.commit()
        visit_id = visit.id
    client = login_as("client")
    _set_language(client, "en")
    html = client.get(f"/reports/visits/{visit_id}").get_data(as_text=True)
    assert "Was your identity verified?" in html and "Did the phone menu fit?" not in html


def test_pdf_with_outside_image_does_not_fetch_it(app, tmp_path):
    """An outside URL in the report HTML is refused by the fetcher, and the render still completes."""
    from weasyprint import HTML

    from audit_app.reports.rendering import StorageFetcher

    secret = tmp_path / "secret.png"
    secret.write_bytes(_png())
    html = f'<p>x</p><img src="file://{secret}"><img src="http://127.0.0.1:9/x.png">'
    calls = []

    class Spy(StorageFetcher):
        def fetch(self, url, headers=None):
            calls.append(url)
            return super().fetch(url, headers)

    pdf = HTML(string=html, base_url="storage:/", url_fetcher=Spy(None, {})).write_pdf()
    assert pdf.startswith(b"%PDF") and len(calls) == 2


# --- exports ---------------------------------------------------------------------------------


def test_csv_and_xlsx_exports(data, login_as):
    from openpyxl import load_workbook

    client = login_as("client")
    _set_language(client, "en")
    a = data["client_a"]
    csv_text = client.get(f"/reports/clients/{a}/export/visits.csv").data.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("Visit,Date,Location") and "Reachability" in lines[0]
    assert len(lines) == 3  # two approved visits; the submitted one and client B's are absent
    assert "33.3" in csv_text and "Kamppi branch" in csv_text and EVALUATOR_NAME not in csv_text
    answers = client.get(f"/reports/clients/{a}/export/answers.csv").data.decode("utf-8-sig")
    assert "Was your identity verified?" in answers and "The clerk read my ID number aloud" in answers
    assert len(answers.strip().splitlines()) == 1 + 2 * 5
    xlsx = client.get(f"/reports/clients/{a}/export/visits.xlsx")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(ws.values)
    assert len(rows) == 3 and rows[0][0] == "Visit"
    assert sorted(r[7] for r in rows[1:]) == [33.3, 100.0]
    filtered = client.get(f"/reports/clients/{a}/export/visits.csv?location_id={data['loc2']}")
    assert len(filtered.data.decode("utf-8-sig").strip().splitlines()) == 2
    assert client.get(f"/reports/clients/{a}/export/visits.pdf").status_code == 404
    assert client.get(f"/reports/clients/{a}/export/visits.csv?start=nonsense").status_code == 400


def test_export_neutralises_spreadsheet_formulas(app, data, login_as):
    from audit_app.extensions import db
    from audit_app.visits.models import Location

    with app.app_context():
        db.session.get(Location, data["loc"]).name = "=HYPERLINK(\"http://evil\")"
        db.session.commit()
    text = login_as("client").get(f"/reports/clients/{data['client_a']}/export/visits.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text


# --- logo ------------------------------------------------------------------------------------


def test_logo_upload_appears_on_pdf_cover_and_bad_files_are_refused(app, data, login_as):
    from pypdf import PdfReader

    admin = login_as("admin")
    a = data["client_a"]
    bad = admin.post(f"/reports/clients/{a}/logo",
                     {"logo": (io.BytesIO(b"<svg>not an image</svg>"), "logo.png")},
                     content_type="multipart/form-data")
    assert bad.status_code == 400 and "PNG" in bad.get_data(as_text=True) and "WebP" in bad.get_data(as_text=True)
    empty = admin.post(f"/reports/clients/{a}/logo", {}, content_type="multipart/form-data")
    assert empty.status_code == 400
    ok = admin.post(f"/reports/clients/{a}/logo", {"logo": (io.BytesIO(_png((200, 30, 30), (300, 100))), "l.png")},
                    content_type="multipart/form-data")
    assert ok.status_code == 302
    _, pdf = _make_pdf(admin, a, "visit", data["worked"])
    cover = PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(cover.images) >= 1
    assert login_as("client").get(f"/reports/clients/{a}/logo").status_code == 403


# --- rendering in an RQ worker ---------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/3"


def test_period_pdf_is_rendered_by_an_rq_worker_with_progress_and_download(app, data, login_as, redis_queue):
    from rq import Queue, SimpleWorker

    from audit_app.reports.jobs import QUEUE

    client = login_as("client")
    _set_language(client, "en")
    response = client.post(f"/reports/clients/{data['client_a']}/pdf/location/{data['loc']}",
                           {"start": (TODAY - timedelta(days=30)).isoformat(), "end": TODAY.isoformat()})
    assert response.status_code == 302
    status_url = response.headers["Location"]
    report_id = int(re.search(r"/reports/generated/(\d+)", status_url).group(1))
    # queued, not rendered in the request: the user sees progress, no download yet
    queue = Queue(QUEUE, connection=redis_queue)
    assert queue.count == 1
    page = client.get(status_url).get_data(as_text=True)
    assert "Making the report" in page and 'role="progressbar"' in page
    state = client.get(f"/reports/generated/{report_id}?format=json").get_json()
    assert state["state"] == "queued" and state["download"] is None
    assert client.get(f"/reports/generated/{report_id}/download").status_code == 404
    # another client's user cannot follow it either
    other = login_as("other_client")
    assert other.get(f"/reports/generated/{report_id}?format=json").status_code == 404

    # the worker entry module runs the job in the app's context (the jobs module builds no app)
    import worker

    assert worker.work(app, [QUEUE], burst=True, worker_class=SimpleWorker)
    assert queue.count == 0 and len(queue.failed_job_registry) == 0

    state = client.get(f"/reports/generated/{report_id}?format=json").get_json()
    assert state["state"] == "done" and state["progress"] == 100
    assert state["download"].endswith(f"/reports/generated/{report_id}/download")
    page = client.get(status_url).get_data(as_text=True)
    assert "Your report is ready." in page and f"/reports/generated/{report_id}/download" in page
    download = client.get(state["download"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    flat = " ".join(_pdf_text(download.data).split())
    assert "Kamppi branch" in flat and "33.3" in flat and "Poor" in flat
    assert "The clerk read my ID number aloud in the queue." in flat
    assert EVALUATOR_NAME not in flat
    assert other.get(state["download"]).status_code == 404


def test_pdf_request_falls_back_to_rendering_in_the_request_when_redis_is_down(app, data, login_as):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/3"  # nothing listens there
    try:
        report_id, pdf = _make_pdf(login_as("client"), data["client_a"], "channel", "phone")
    finally:
        app.config["REDIS_URL"] = ""
    assert pdf.startswith(b"%PDF")


# --- issue 13: complete reports ---------------------------------------------------------------

FREE_TEXT = "The greeting was warm, but nobody explained what happens next with my complaint."


@pytest.fixture
def evidence(app, data):
    """The worked visit gets a free-text answer, a comment on a passed question and photos on a passed
    question and on the visit as a whole; client A gets a phone visit without a location."""
    from audit_app.accounts.models import User
    from audit_app.extensions import db
    from audit_app.visits.models import Visit

    with app.app_context():
        worked = db.session.get(Visit, data["worked"])
        factories.answer(worked, "q6", FREE_TEXT)
        factories.answer(worked, "q5", True, comment="Screens faced the wall.")
        _photo(worked, "q5", "Screens turned away")
        _photo(worked, None, "The branch entrance")
        evaluator = db.session.get(User, data_evaluator(data))
        factories.make_scored_visit(db.session.merge(world_client(data)), evaluator, channel="chat",
                                    visited_on=TODAY - timedelta(days=4))
        db.session.commit()
    return data


def data_evaluator(data):
    from audit_app.accounts.models import User
    from audit_app.extensions import db

    return db.session.scalar(select(User.id).where(User.role == "evaluator"))


def world_client(data):
    from audit_app.accounts.models import Client
    from audit_app.extensions import db

    return db.session.get(Client, data["client_a"])


@pytest.mark.parametrize("language", ["en", "fi"])
def test_visit_report_shows_free_text_and_every_photo_in_page_and_pdf(evidence, login_as, language):
    client = login_as("client")
    _set_language(client, language)
    html = client.get(f"/reports/visits/{evidence['worked']}").get_data(as_text=True)
    captions = ("Queue by the counter", "Screens turned away", "The branch entrance")
    for text in (FREE_TEXT, "Screens faced the wall.", *captions):
        assert text in html, text
    assert ("The visit as a whole" if language == "en" else "Käynti kokonaisuutena") in html
    _, pdf = _make_pdf(client, evidence["client_a"], "visit", evidence["worked"], language)
    flat = " ".join(_pdf_text(pdf).split())
    assert FREE_TEXT in flat and "Screens faced the wall." in flat
    prompt = "Anything else?" + ("" if language == "en" else " (fi)")
    assert prompt in flat
    for caption in captions:
        assert caption in flat, caption
    assert ("Mar 4, 2026" if language == "en" else "4.3.2026") in flat  # when each was taken, as the reader reads it
    assert "No comment" not in flat and "Ei kommenttia" not in flat
    # the evidence appendix: each photo's place against the visit's window and its original's SHA-256
    from audit_app.evidence.models import Photo
    from audit_app.extensions import db

    with client.client.application.app_context():
        hashes = db.session.scalars(select(Photo.sha256).where(Photo.visit_id == evidence["worked"])).all()
    assert len(hashes) == 3
    squeezed = "".join(flat.split())
    for digest in hashes:
        assert digest in squeezed, digest
    assert ("Evidence photos" if language == "en" else "Todisteena olevat kuvat") in flat


def test_a_dashboard_with_many_locations_lists_the_best_and_the_worst():
    from audit_app.reports.queries.dashboard import RANKING_ENDS, ranking_ends

    rows = [{"rank": i + 1} for i in range(500)]
    ends = ranking_ends(rows)
    assert [r["rank"] for r in ends["top"]] == list(range(1, RANKING_ENDS + 1))
    assert [r["rank"] for r in ends["bottom"]] == list(range(501 - RANKING_ENDS, 501))
    assert ends["hidden"] == 500 - 2 * RANKING_ENDS
    assert ranking_ends(rows, show_all=True) == {"top": rows, "bottom": [], "hidden": 0}
    few = rows[:2 * RANKING_ENDS + 5]
    assert ranking_ends(few) == {"top": few, "bottom": [], "hidden": 0}  # a few more than the ends: all of them


def test_dashboard_lists_every_location_on_request(data, login_as):
    client = login_as("client")
    _set_language(client, "en")
    for url in ("/dashboard", "/dashboard?locations=all"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Kamppi branch" in html and "Tampere branch" in html and "ranked between these" not in html


def test_client_summary_pdf_ranks_locations_with_their_dimension_scores(data, login_as):
    _, pdf = _make_pdf(login_as("client"), data["client_a"], "client", "all")
    flat = " ".join(_pdf_text(pdf).split())
    ranked = flat[flat.index("Locations ranked"):]
    assert "Cells are coloured by grade" in ranked  # the legend of the grade colours
    assert "Dimensions by location and channel" not in flat  # one table: the ranking carries the heat map


def test_visits_without_a_location_are_ranked_by_channel_not_as_a_location(app, evidence, login_as):
    from audit_app.reports import queries

    with app.test_request_context():
        f = queries.Filters(client_id=evidence["client_a"], start=TODAY - timedelta(days=30), end=TODAY)
        d = queries.dashboard(f, "en")
        summary = queries.period_report("client", f, "en", "")
        chat = queries.period_report("channel", queries.Filters(
            client_id=evidence["client_a"], start=f.start, end=f.end, channel="chat"), "en", "Chat")
    assert [row["name"] for row in d["locations"]] == ["Tampere branch", "Kamppi branch"]
    assert "chat" in [c["code"] for c in d["channels"]]
    assert all(row["id"] for row in d["locations"] + summary.locations)
    assert "" not in [row["name"] for row in summary.heatmap] and "–" not in [row["name"] for row in summary.heatmap]
    assert "Chat" in [row["name"] for row in summary.heatmap]
    assert chat.locations == [] and chat.overall["n"] == 1
    client = login_as("client")
    _set_language(client, "en")
    for url in ("/dashboard", f"/reports/clients/{evidence['client_a']}/summary",
                f"/reports/clients/{evidence['client_a']}/channels/chat"):
        html = client.get(url).get_data(as_text=True)
        assert "No location" not in html, url
    _, pdf = _make_pdf(client, evidence["client_a"], "channel", "chat")
    flat = " ".join(_pdf_text(pdf).split())
    assert "No location" not in flat and "Locations ranked" not in flat
    _, pdf = _make_pdf(client, evidence["client_a"], "client", "all")
    flat = " ".join(_pdf_text(pdf).split())
    assert "No location" not in flat and "Chat" in flat


def test_my_reports_name_each_report_and_files_have_readable_names(app, data, login_as):
    from audit_app.accounts.models import Client
    from audit_app.extensions import db
    from audit_app.visits.models import Location

    with app.app_context():
        db.session.get(Client, data["client_a"]).name = "Pohjolan Pankki"
        db.session.get(Location, data["loc"]).name = "Kamppi Ääkköset"
        db.session.commit()
    client = login_as("client")
    start, end = TODAY - timedelta(days=30), TODAY
    files = {}
    for scope, ref, language in (("location", data["loc"], "en"), ("channel", "phone", "fi"),
                                 ("client", "all", "en"), ("visit", data["worked"], "fi")):
        _set_language(client, language)
        response = client.post(f"/reports/clients/{data['client_a']}/pdf/{scope}/{ref}",
                               {"start": start.isoformat(), "end": end.isoformat()})
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        name = re.fullmatch(r'attachment; filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)
        files[scope] = name
        again = client.get(f"/reports/generated/{response.headers['X-Report-Id']}/download")
        assert again.headers["Content-Disposition"] == response.headers["Content-Disposition"]
    iso = f"{start.isoformat()}_{end.isoformat()}"
    assert files["location"] == f"pohjolan-pankki_location_kamppi-aakkoset-helsinki_{iso}.pdf"
    assert files["channel"] == f"pohjolan-pankki_kanava_puhelin_{iso}.pdf"  # in the report's language
    assert files["client"] == f"pohjolan-pankki_summary_{iso}.pdf"
    assert files["visit"] == f"pohjolan-pankki_kaynti_kamppi-aakkoset-helsinki-paikan-paalla_{TODAY - timedelta(days=3)}.pdf"
    for name in files.values():
        assert name.isascii() and " " not in name
    from babel.dates import format_interval

    _set_language(client, "en")
    html = client.get("/reports/generated").get_data(as_text=True)
    en_period = format_interval(start, end, "yMMMd", locale="en")
    assert f"Location report · Kamppi Ääkköset, Helsinki · {en_period}" in html
    assert f"Channel report · Phone · {en_period}" in html
    assert f"Client summary · {en_period}" in html
    assert "Visit report · Kamppi Ääkköset, Helsinki · In person · " in html
    _set_language(client, "fi")
    html = client.get("/reports/generated").get_data(as_text=True)
    fi_period = format_interval(start, end, "yMd", locale="fi")
    assert f"Toimipisteraportti · Kamppi Ääkköset, Helsinki · {fi_period}" in html
    assert f"Kanavaraportti · Puhelin · {fi_period}" in html
    visited = TODAY - timedelta(days=3)
    assert f"Käyntiraportti · Kamppi Ääkköset, Helsinki · Paikan päällä · {visited.day}.{visited.month}.{visited.year}" in html
    for raw in (f"· {data['loc']}<", "· phone", f"· {data['worked']}<"):
        assert raw not in html


def test_pdf_titles_do_not_repeat_the_client(data, login_as):
    from pypdf import PdfReader

    _, pdf = _make_pdf(login_as("client"), data["client_a"], "client", "all")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Client summary · Client A"
    flat = " ".join(_pdf_text(pdf).split())
    assert "Client A · Client A" not in flat and "Client summary: Client A" not in flat


def test_csv_exports_carry_one_charset(data, login_as):
    response = login_as("client").get(f"/reports/clients/{data['client_a']}/export/visits.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
