"""Speed of reports (issue 6). Prints the figures; not part of the test suite.

    .venv/bin/python bench/reports_bench.py                   # full run (100,000 visits for the dashboard)
    .venv/bin/python bench/reports_bench.py --visits 20000    # a smaller dashboard database
    .venv/bin/python bench/reports_bench.py --rebuild         # build the data again
    .venv/bin/python bench/reports_bench.py --keep-pdfs /tmp/bench-pdfs

Uses its own PostgreSQL database (default postgresql://postgres@127.0.0.1:5432/bench_reports,
created if missing) and its own Storage folder (default $TMPDIR/reports-bench-<database>). The
data (built by the migrations and bulk SQL, about three minutes for 100,000 visits) is kept and
reused by later runs while the migrations head, the bench's data version and the visit count
match and it is less than five days old.

Targets: single-visit PDF (40 answers, 12 photos) < 1.5 s and <= 1.3 x the time WeasyPrint needs
for a plain HTML document with the same text and images (the report's own HTML without its
stylesheet, classes and roles, photos 40 mm wide), timed interleaved in the same run; client
summary (50 locations, 1,000 visits) < 5 s; dashboard p95 < 300 ms with 100,000 approved visits.
Times are wall-clock medians; on a busy machine the best-of-N is printed too.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgdb import ensure_database  # noqa: E402  (bench/ is on sys.path for a script run from it)

DIMS = ("reachability", "effortlessness", "empathy", "transparency", "privacy")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                            "postgresql://postgres@127.0.0.1:5432/bench_reports"))
    p.add_argument("--visits", type=int, default=100_000, help="approved visits for the dashboard figure")
    p.add_argument("--requests", type=int, default=60, help="dashboard requests to time")
    p.add_argument("--repeat", type=int, default=9, help="single-visit PDF renders to time (median reported)")
    p.add_argument("--keep-pdfs", help="write the rendered PDFs to this folder")
    p.add_argument("--storage", help="Storage folder for the bench's photos (kept with the database)")
    p.add_argument("--rebuild", action="store_true", help="build the data again even if a cached copy fits")
    return p.parse_args()


DATA_VERSION = 4  # bump when the generated data changes
CACHE_DAYS = 5
# The client summary covers a 90-day period SUMMARY_OFFSET days ago that holds exactly its 1,000 visits;
# the rest (the dashboard's 100,000) lie in the last two years, like a large client's real history.
SUMMARY_OFFSET = 800
SUMMARY_DAYS = 80


def make_app(url: str, storage_dir: str):
    os.environ["AUDIT_INSTANCE_PATH"] = storage_dir
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    from audit_app import create_app

    return create_app({"WTF_CSRF_ENABLED": False})


def cached_fixture(app, visits: int) -> dict | None:
    """The fixture ids of a previous run, if its data fits this run."""
    import json

    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect, text

    from audit_app.extensions import db

    with app.app_context():
        if not inspect(db.engine).has_table("bench_meta"):
            return None
        meta = json.loads(db.session.execute(text("SELECT data FROM bench_meta")).scalar() or "{}")
        current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    fresh = (date.today() - date.fromisoformat(meta.get("built", "2000-01-01"))).days < CACHE_DAYS
    photos = Path(os.environ["AUDIT_INSTANCE_PATH"], "evidence").is_dir()
    if meta.get("data_version") == DATA_VERSION and meta.get("visits") == visits and current == head and fresh \
            and photos:
        return meta["fixture"]
    return None


def build_data(app, visits: int) -> dict:
    import json

    from flask_migrate import upgrade
    from sqlalchemy import text

    from audit_app.extensions import db

    t0 = time.perf_counter()
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    fx = build_visit_fixture(app)
    clone_visits(app, fx, 1000, days=SUMMARY_DAYS, offset=SUMMARY_OFFSET)
    extra = max(0, visits - 1001)
    while extra > 0:
        chunk = min(extra, 25_000)
        clone_visits(app, fx, chunk, days=730)
        extra -= chunk
    with app.app_context(), db.engine.connect() as conn:  # as autovacuum would: statistics, visibility map
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_meta (data text)"))
        conn.execute(text("INSERT INTO bench_meta VALUES (:d)"), {"d": json.dumps(
            {"data_version": DATA_VERSION, "visits": visits, "built": date.today().isoformat(), "fixture": fx})})
    print(f"built the data ({visits} approved visits) in {time.perf_counter() - t0:.0f} s")
    return fx


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


def clone_visits(app, fx: dict, n: int, days: int, offset: int = 0,
                 channels=("in_person", "phone", "chat", "email")) -> None:
    """Bulk-insert ``n`` approved visits copied from the fixture visit, with varied scores, in SQL.

    They are dated ``offset`` to ``offset + days - 1`` days ago."""
    from sqlalchemy import text

    from audit_app.extensions import db

    loc_ids = fx["locations"]
    chan = "ARRAY[" + ",".join(f"'{c}'" for c in channels) + "]"
    with app.app_context(), db.engine.begin() as conn:
        last = conn.execute(text("SELECT max(id) FROM visits")).scalar()
        conn.execute(text(f"""
            INSERT INTO visits (client_id, location_id, channel, checklist_version_id, evaluator_id, due_from, due_to,
                                scenario, status, visited_on, approved_at, score_overall, score_critical_fail,
                                score_data, scored_at, created_at, updated_at)
            SELECT v.client_id, (ARRAY[{",".join(map(str, loc_ids))}])[1 + g % {len(loc_ids)}],
                   ({chan})[1 + (g / 7) % {len(channels)}], v.checklist_version_id, v.evaluator_id,
                   v.due_from, v.due_to, '', 'approved', CURRENT_DATE - ({offset} + g % {days}), now(),
                   40 + (g * 37 % 600) / 10.0, g % 17 = 0, v.score_data, now(), now(), now()
            FROM visits v, generate_series(1, :n) g WHERE v.id = :vid
        """), {"n": n, "vid": fx["visit"]})
        conn.execute(text("""
            INSERT INTO visit_dimension_scores (visit_id, dimension, score)
            SELECT v.id, d.dimension, LEAST(100, GREATEST(0, v.score_overall + (length(d.dimension) % 7 - 3) * 4))
            FROM visits v JOIN visit_dimension_scores d ON d.visit_id = :vid
            WHERE v.id > :last
        """), {"vid": fx["visit"], "last": last})
        # the built-in dimensions' scores are on the visit row too (as compute_and_store_scores keeps them)
        conn.execute(text(f"""
            UPDATE visits v SET {", ".join(
                f"score_{d} = (SELECT score FROM visit_dimension_scores s WHERE s.visit_id = v.id "
                f"AND s.dimension = '{d}')" for d in DIMS)}
            WHERE v.id > :last
        """), {"last": last})
        conn.execute(text("""
            INSERT INTO answers (visit_id, question_id, value, na, comment, answered_at, updated_at, fraction, failed)
            SELECT v.id, a.question_id, a.value, a.na, '', now(), now(), a.fraction,
                   CASE WHEN a.fraction IS NULL THEN false ELSE (v.id + a.question_id) % 9 = 0 END
            FROM visits v JOIN answers a ON a.visit_id = :vid
            WHERE v.id > :last
        """), {"vid": fx["visit"], "last": last})


def interleaved(fns: dict, repeat: int) -> dict[str, list[float]]:
    """Wall-clock times of each function, run in turn ``repeat`` times (fair on a noisy machine)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def plain_html(report_html: str) -> str:
    """The baseline: the report's own HTML (same text, same images) as a plain document.

    No stylesheet, no classes or roles; photos 40 mm wide as in the report, the chart page-wide.
    """
    html = re.sub(r"<style>.*?</style>", "", report_html, flags=re.S)
    html = re.sub(r'\s(class|role)="[^"]*"', "", html)
    html = html.replace('<img src="chart:', '<img style="width: 100%" src="chart:')
    return html.replace('<img src="storage:', '<img style="width: 40mm" src="storage:')


def main() -> None:
    args = parse()
    ensure_database(args.database_url)
    name = args.database_url.rsplit("/", 1)[-1]
    storage_dir = args.storage or str(Path(tempfile.gettempdir()) / f"reports-bench-{name}")
    Path(storage_dir).mkdir(parents=True, exist_ok=True)
    app = make_app(args.database_url, storage_dir)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    from flask_babel import force_locale
    from weasyprint import HTML

    from audit_app.evidence.storage import get_storage
    from audit_app.reports import operations
    from audit_app.reports.rendering import StorageFetcher, render_pdf, report_charts, report_html

    fx = None if args.rebuild else cached_fixture(app, args.visits)
    if fx is None:
        fx = build_data(app, args.visits)
    else:
        print(f"reusing the data of an earlier run ({args.visits} approved visits; --rebuild to build it again)")
    keep = Path(args.keep_pdfs) if args.keep_pdfs else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    print(f"database: {args.database_url}")

    # 1. single-visit PDF (data, charts, HTML, PDF) vs WeasyPrint on the plain baseline, interleaved
    with app.test_request_context(), force_locale("en"):
        storage = get_storage()

        def visit_pdf():
            r = operations.build_report("visit", fx["client"], str(fx["visit"]), None, None, "en")
            return render_pdf(r, storage=storage, cache={})

        report = operations.build_report("visit", fx["client"], str(fx["visit"]), None, None, "en")
        answers = sum(len(s["questions"]) for s in report.sections)
        photos = sum(len(i["photos"]) for i in report.failed_items) + len(report.other_photos)
        svgs = report_charts(report, titled=False)  # as render_pdf draws them
        baseline_html = plain_html(report_html(report, svgs))

        def baseline():
            return HTML(string=baseline_html, base_url="storage:/",
                        url_fetcher=StorageFetcher(storage, {}, charts=svgs)).write_pdf()

        pdf = visit_pdf()  # warm-up (fonts, matplotlib)
        baseline()
        times = interleaved({"report": visit_pdf, "baseline": baseline}, args.repeat)
        if keep:
            (keep / "visit.pdf").write_bytes(pdf)
            (keep / "baseline.pdf").write_bytes(baseline())
    t_pdf, t_base = (statistics.median(times[k]) for k in ("report", "baseline"))
    b_pdf, b_base = (min(times[k]) for k in ("report", "baseline"))
    print(f"single-visit PDF ({answers} answers, {photos} photos, {len(pdf) // 1024} KiB): median {t_pdf:.3f} s, "
          f"best {b_pdf:.3f} s (target < 1.5 s)")
    print(f"plain-HTML WeasyPrint baseline, same text and images: median {t_base:.3f} s, best {b_base:.3f} s; "
          f"ratio {t_pdf / t_base:.2f} (medians), {b_pdf / b_base:.2f} (best) (target <= 1.30)")

    # 2. client summary over 50 locations and 1,000 visits (a 90-day period that holds just those)
    with app.test_request_context(), force_locale("en"):
        end = date.today() - timedelta(days=SUMMARY_OFFSET)
        start = end - timedelta(days=89)
        out = {}

        def summary_pdf():
            r = operations.build_report("client", fx["client"], "", start, end, "en")
            out["report"], out["pdf"] = r, render_pdf(r, storage=storage, cache={})

        summary_pdf()  # warm-up
        times = interleaved({"summary": summary_pdf}, max(1, args.repeat // 3))["summary"]
        report, pdf = out["report"], out["pdf"]
        if keep:
            (keep / "client_summary.pdf").write_bytes(pdf)
    print(f"client summary PDF ({len(report.locations)} locations, {report.overall['n']} visits, "
          f"{len(pdf) // 1024} KiB): median {statistics.median(times):.3f} s, best {min(times):.3f} s (target < 5 s)")

    # 3. dashboard p95 with N approved visits in PostgreSQL, through the HTTP stack
    with app.app_context():
        from sqlalchemy import func, select

        from audit_app.extensions import db
        from audit_app.visits.models import Visit

        total = db.session.scalar(select(func.count(Visit.id)).where(Visit.status == "approved"))
    http = app.test_client()
    r = http.post("/login", data={"email": fx["admin_email"], "password": "bench-password-123"})
    assert r.status_code == 302, r.status_code
    today = date.today()
    c = fx["client"]
    urls = [  # the landing page (the last 90 days), filters, a year, two years of one channel
        f"/dashboard?client_id={c}",
        f"/dashboard?client_id={c}&start={today - timedelta(days=364)}&end={today}",
        f"/dashboard?client_id={c}&region=Region+2",
        f"/dashboard?client_id={c}&channel=phone&start={today - timedelta(days=729)}&end={today}",
        f"/dashboard?client_id={c}&location_id={fx['locations'][3]}",
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


if __name__ == "__main__":
    main()
