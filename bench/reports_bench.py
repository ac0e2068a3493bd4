"""Speed of reports (issue 6). Prints the figures; not part of the test suite.

    .venv/bin/python bench/reports_bench.py                   # full run (100,000 visits for the dashboard)
    .venv/bin/python bench/reports_bench.py --visits 20000    # a smaller dashboard database
    .venv/bin/python bench/reports_bench.py --keep-pdfs /tmp/bench-pdfs

Uses its own PostgreSQL database (default postgresql://postgres@127.0.0.1:5432/bench, created
if missing and rebuilt by the migrations on every run) and a temporary instance folder for
Storage. Targets: single-visit PDF (40 answers, 12 photos) < 1.5 s and <= 1.3 x a plain HTML
document with the same text and images rendered by WeasyPrint in the same run; client summary
(50 locations, 1,000 visits) < 5 s; dashboard p95 < 300 ms with 100,000 approved visits.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIMS = ("reachability", "effortlessness", "empathy", "transparency", "privacy")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                            "postgresql://postgres@127.0.0.1:5432/bench"))
    p.add_argument("--visits", type=int, default=100_000, help="approved visits for the dashboard figure")
    p.add_argument("--requests", type=int, default=40, help="dashboard requests to time")
    p.add_argument("--repeat", type=int, default=5, help="PDF renders to time (the median is reported)")
    p.add_argument("--keep-pdfs", help="write the rendered PDFs to this folder")
    return p.parse_args()


def ensure_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}):
            conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def make_app(url: str):
    os.environ["AUDIT_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="reports-bench-")
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    from flask_migrate import upgrade
    from sqlalchemy import text

    from audit_app import create_app
    from audit_app.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False})
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


def forty_question_doc() -> dict:
    t = lambda en, fi: {"en": en, "fi": fi}  # noqa: E731
    sections = []
    for s, dim in enumerate(DIMS):
        questions = []
        for q in range(8):
            key = f"s{s}q{q}"
            if q % 4 == 3:
                questions.append({"key": key, "kind": "scale", "min": 1, "max": 5,
                                  "prompt": t(f"How well did the staff handle situation {s}.{q}?",
                                              f"Kuinka hyvin henkilökunta hoiti tilanteen {s}.{q}?"),
                                  "guidance": t("Rate.", "Arvioi.")})
            else:
                questions.append({"key": key, "kind": "yes_no", "critical": q == 0 and s == 4, "photo": "allowed",
                                  "prompt": t(f"Was requirement {s}.{q} of the service promise met in full?",
                                              f"Täyttyikö palvelulupauksen vaatimus {s}.{q} kokonaan?"),
                                  "guidance": t("Check.", "Tarkista.")})
        sections.append({"key": f"s{s}", "title": t(f"Section {s + 1}", f"Osio {s + 1}"), "dimension": dim,
                         "weight": 1 + s % 2, "guidance": t("", ""), "questions": questions})
    return {"format": "outside-eye-checklist/1", "title": t("Bench checklist", "Testilista"),
            "critical_scope": "section", "sections": sections}


def photo_bytes(i: int) -> bytes:
    """A report-size JPEG with some texture (not a flat colour that compresses to nothing)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1200, 900), (40 + 15 * i % 200, 90, 140))
    draw = ImageDraw.Draw(img)
    for k in range(0, 1200, 40):
        draw.line([(k, 0), (1200 - k, 900)], fill=(200, 180 - k % 120, 90), width=6)
    draw.rectangle([100, 100, 500, 400], fill=(240, 240, 230))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=82)
    return out.getvalue()


def build_visit_fixture(app):
    """A client with 50 locations, an approved visit with 40 answers and 12 photos."""
    from audit_app.accounts import operations as accounts
    from audit_app.checklists import operations as checklists
    from audit_app.checklists.models import Question
    from audit_app.evidence.models import Photo
    from audit_app.evidence.storage import get_storage
    from audit_app.extensions import db
    from audit_app.submissions.models import Answer
    from audit_app.submissions.operations import compute_and_store_scores
    from audit_app.visits.models import Location, Visit

    with app.app_context():
        client = accounts.create_client("Bench Retail Oy")
        accounts.create_user(email="bench-admin@example.com", name="Bench Admin", role="admin",
                                     password="bench-password-123", must_change_password=False)
        evaluator = accounts.create_user(email="bench-eva@example.com", name="Bench Evaluator", role="evaluator",
                                         password="bench-password-123", must_change_password=False)
        version = checklists.build_version(forty_question_doc())
        checklists.publish(version)
        locations = []
        for i in range(50):
            loc = Location(client_id=client.id, name=f"Branch {i + 1:02d}", city=f"City {i % 12}",
                           region=f"Region {i % 5}")
            db.session.add(loc)
            locations.append(loc)
        db.session.flush()
        today = date.today()
        visit = Visit(client_id=client.id, evaluator_id=evaluator.id, checklist_version_id=version.id,
                      channel="in_person", location_id=locations[0].id, due_from=today, due_to=today,
                      status="approved", visited_on=today - timedelta(days=2), approved_at=datetime.now())
        db.session.add(visit)
        db.session.flush()
        questions = db.session.query(Question).filter_by(version_id=version.id).order_by(Question.id).all()
        failed_keys = []
        for n, q in enumerate(questions):
            if q.kind == "scale":
                value = 1 + n % 5
            else:
                value = n % 3 != 1
            if value is False:
                failed_keys.append(q)
            db.session.add(Answer(visit_id=visit.id, question_id=q.id, value=value,
                                  comment=("The customer waited without being greeted while staff talked about "
                                           "the weekend; nobody offered help or explained the queue." if
                                           value is False or value == 1 else "")))
        db.session.flush()
        compute_and_store_scores(visit)
        storage = get_storage()
        for i in range(12):
            q = failed_keys[i % len(failed_keys)]
            key = f"visits/{visit.id}/bench{i}/report.jpg"
            data = photo_bytes(i)
            storage.put(key, data, "image/jpeg")
            db.session.add(Photo(visit_id=visit.id, question_id=q.id, client_uid=f"bench{i}",
                                 caption=f"Evidence {i + 1}: the counter area", storage_key=key, report_key=key,
                                 thumb_key=key, content_type="image/jpeg", size_bytes=len(data), width=1200,
                                 height=900, sha256="0" * 64, captured_at=datetime(2026, 3, 4, 10, i)))
        db.session.commit()
        return {"client": client.id, "visit": visit.id, "locations": [loc.id for loc in locations],
                "version": version.id, "evaluator": evaluator.id, "admin_email": "bench-admin@example.com"}


def clone_visits(app, fx: dict, n: int, days: int, channels=("in_person", "phone", "chat", "email")) -> None:
    """Bulk-insert ``n`` approved visits copied from the fixture visit, with varied scores, in SQL."""
    from sqlalchemy import text

    from audit_app.extensions import db

    loc_ids = fx["locations"]
    chan = "ARRAY[" + ",".join(f"'{c}'" for c in channels) + "]"
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO visits (client_id, location_id, channel, checklist_version_id, evaluator_id, due_from, due_to,
                                scenario, status, visited_on, approved_at, score_overall, score_critical_fail,
                                score_data, scored_at, created_at, updated_at)
            SELECT v.client_id, (ARRAY[{",".join(map(str, loc_ids))}])[1 + g % {len(loc_ids)}],
                   ({chan})[1 + (g / 7) % {len(channels)}], v.checklist_version_id, v.evaluator_id,
                   v.due_from, v.due_to, '', 'approved', CURRENT_DATE - (g % {days}), now(),
                   40 + (g * 37 % 600) / 10.0, g % 17 = 0, v.score_data, now(), now(), now()
            FROM visits v, generate_series(1, :n) g WHERE v.id = :vid
        """), {"n": n, "vid": fx["visit"]})
        conn.execute(text("""
            INSERT INTO visit_dimension_scores (visit_id, dimension, score)
            SELECT v.id, d.dimension, LEAST(100, GREATEST(0, v.score_overall + (length(d.dimension) % 7 - 3) * 4))
            FROM visits v JOIN visit_dimension_scores d ON d.visit_id = :vid
            WHERE v.id > :vid AND NOT EXISTS (SELECT 1 FROM visit_dimension_scores x WHERE x.visit_id = v.id)
        """), {"vid": fx["visit"]})
        conn.execute(text("""
            INSERT INTO answers (visit_id, question_id, value, na, comment, answered_at, updated_at, fraction, failed)
            SELECT v.id, a.question_id, a.value, a.na, '', now(), now(), a.fraction,
                   CASE WHEN a.fraction IS NULL THEN false ELSE (v.id + a.question_id) % 9 = 0 END
            FROM visits v JOIN answers a ON a.visit_id = :vid
            WHERE v.id > :vid AND NOT EXISTS (SELECT 1 FROM answers x WHERE x.visit_id = v.id)
        """), {"vid": fx["visit"]})
        conn.execute(text("ANALYZE"))


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def plain_html(report) -> str:
    """The same text and images as the visit report, as a plain HTML document (the baseline)."""
    from markupsafe import escape

    parts = [f"<h1>{escape(report.client_name)}</h1><p>{escape(report.title)} {escape(report.subject)}</p>"]
    for s in report.sections:
        parts.append(f"<h2>{escape(s['title'])} {s['display']}</h2><table>")
        for q in s["questions"]:
            parts.append(f"<tr><td>{escape(q['prompt'])}</td><td>{escape(q['answer'])}</td>"
                         f"<td>{q['score_display']}</td></tr>")
        parts.append("</table>")
    for i in report.failed_items:
        parts.append(f"<h3>{escape(i['prompt'])}</h3><p>{escape(i['comment'])}</p>")
        for p in i["photos"]:
            parts.append(f'<img src="{p["url"]}" style="width:38mm"><p>{escape(p["caption"])}</p>')
    return "<html><body>" + "".join(parts) + "</body></html>"


def main() -> None:
    args = parse()
    ensure_database(args.database_url)
    app = make_app(args.database_url)
    from flask_babel import force_locale
    from weasyprint import HTML

    from audit_app.evidence.storage import get_storage
    from audit_app.reports import operations, queries
    from audit_app.reports.rendering import StorageFetcher, render_pdf

    fx = build_visit_fixture(app)
    keep = Path(args.keep_pdfs) if args.keep_pdfs else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    print(f"database: {args.database_url}")

    # 1. single-visit PDF vs the plain-HTML baseline, same run, same images
    with app.test_request_context(), force_locale("en"):
        storage = get_storage()
        report = operations.build_report("visit", fx["client"], str(fx["visit"]), None, None, "en")
        answers = sum(len(s["questions"]) for s in report.sections)
        photos = sum(len(i["photos"]) for i in report.failed_items)
        baseline_html = plain_html(report)
        render_pdf(report, storage=storage, cache={})  # warm-up (fonts, matplotlib)
        HTML(string=baseline_html, url_fetcher=StorageFetcher(storage, {})).write_pdf()

        def visit_pdf():
            r = operations.build_report("visit", fx["client"], str(fx["visit"]), None, None, "en")
            return render_pdf(r, storage=storage, cache={})

        t_pdf, pdf = timed(visit_pdf, args.repeat)
        t_base, _ = timed(lambda: HTML(string=baseline_html, url_fetcher=StorageFetcher(storage, {})).write_pdf(),
                          args.repeat)
        if keep:
            (keep / "visit.pdf").write_bytes(pdf)
    print(f"single-visit PDF ({answers} answers, {photos} photos): {t_pdf:.3f} s (target < 1.5 s), "
          f"{len(pdf) // 1024} KiB")
    print(f"plain-HTML WeasyPrint baseline, same text and images: {t_base:.3f} s; "
          f"ratio {t_pdf / t_base:.2f} (target <= 1.30)")

    # 2. client summary over 50 locations and 1,000 visits
    clone_visits(app, fx, 999, days=80)
    with app.test_request_context(), force_locale("en"):
        end = date.today()
        start = end - timedelta(days=89)

        def summary_pdf():
            r = operations.build_report("client", fx["client"], "", start, end, "en")
            return r, render_pdf(r, storage=storage, cache={})

        t_sum, (report, pdf) = timed(summary_pdf, max(1, args.repeat // 2))
        if keep:
            (keep / "client_summary.pdf").write_bytes(pdf)
    print(f"client summary PDF ({len(report.locations)} locations, {report.overall['n']} visits): {t_sum:.3f} s "
          f"(target < 5 s), {len(pdf) // 1024} KiB")

    # 3. dashboard p95 with N approved visits in PostgreSQL, through the HTTP stack
    extra = max(0, args.visits - 1000)
    t0 = time.perf_counter()
    while extra > 0:
        chunk = min(extra, 50_000)
        clone_visits(app, fx, chunk, days=730)
        extra -= chunk
    with app.app_context():
        from sqlalchemy import func, select

        from audit_app.extensions import db
        from audit_app.visits.models import Visit

        total = db.session.scalar(select(func.count(Visit.id)).where(Visit.status == "approved"))
    print(f"loaded {total} approved visits in {time.perf_counter() - t0:.1f} s")
    http = app.test_client()
    r = http.post("/login", data={"email": fx["admin_email"], "password": "bench-password-123"})
    assert r.status_code == 302, r.status_code
    urls = [
        f"/dashboard?client_id={fx['client']}",
        f"/dashboard?client_id={fx['client']}&start={date.today() - timedelta(days=364)}&end={date.today()}",
        f"/dashboard?client_id={fx['client']}&region=Region+2",
        f"/dashboard?client_id={fx['client']}&channel=phone&start={date.today() - timedelta(days=729)}",
        f"/dashboard?client_id={fx['client']}&location_id={fx['locations'][3]}",
    ]
    for url in urls:
        assert http.get(url).status_code == 200, url  # warm-up
    times = []
    for i in range(args.requests):
        url = urls[i % len(urls)]
        t0 = time.perf_counter()
        response = http.get(url)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    print(f"dashboard with {total} approved visits: p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms over {len(times)} requests (target p95 < 300 ms)")
    _ = queries  # the report data builders are what the figures above measure


if __name__ == "__main__":
    main()
