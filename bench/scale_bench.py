"""Scale (issue 20): dashboards, the client summary and the visits export at a million visits, and the
rollups' cost per approval. Prints the figures; not part of the test suite.

    .venv/bin/python bench/scale_bench.py                    # 1,000,000 approved visits (built once, ~10 min)
    .venv/bin/python bench/scale_bench.py --visits 100000    # a smaller database, to develop with
    .venv/bin/python bench/scale_bench.py --rebuild          # build the data again

The data lives in a PostgreSQL template database (default ``bench_scale_template`` beside
``bench_scale``), built by the migrations and bulk SQL (generate_series, foreign-key triggers off
and secondary indexes rebuilt after the load), then ``rollups.rebuild()``, ``VACUUM ANALYZE``. It is
reused while the bench's data version and the visit count match and it is less than ten days old.
Every run works on a fresh copy (``CREATE DATABASE bench_scale TEMPLATE ... STRATEGY FILE_COPY``,
then the migrations up to head), because the approvals it times change the data.

The data: one client (a bank) with 500 branches in 20 regions, six channels, a 20-question checklist
in five sections; the approved visits spread evenly over the last five years (about 550 a day).

Figures (targets of issue 20):
- dashboard p50/p95 over one year and over all time (five years), through the real view as the
  client's user (p95 < 100 ms);
- the client summary PDF over the 500 branches and a period holding 100,000 visits (< 5 s);
- the visits export of every visit (CSV, the real view in a child process): time, rows/s
  (>= 50,000) and the child's peak RSS (ru_maxrss, < 250 MB);
- approval through the real view with and without the rollups' refresh (its receivers
  disconnected in the bench only), 1,000 each, interleaved in blocks: the ratio (<= 1.5).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pgdb import ensure_database  # noqa: E402

DATA_VERSION = 1  # bump when the generated data changes
CACHE_DAYS = 10
DAYS = 5 * 365  # the visits lie in the last DAYS days (the dashboard's longest period is 5 x 366 days)
LOCATIONS = 500
REGIONS = 20
CHANNELS = ("in_person", "phone", "chat", "email", "social", "web")
DIMS = ("reachability", "effortlessness", "empathy", "transparency", "privacy")
PASSWORD = "bench-password-123"
CLIENT_USER = "bench-client@example.com"
ADMIN = "bench-admin@example.com"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                            "postgresql://postgres@127.0.0.1:5432/bench_scale"))
    p.add_argument("--visits", type=int, default=1_000_000, help="approved visits")
    p.add_argument("--requests", type=int, default=60, help="dashboard requests to time per period")
    p.add_argument("--approvals", type=int, default=1000, help="approvals to time with and without rollups")
    p.add_argument("--summary-visits", type=int, default=100_000, help="visits in the client summary's period")
    p.add_argument("--rebuild", action="store_true", help="build the data again even if a cached copy fits")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: dashboard,summary,export,approval")
    p.add_argument("--export-child", help=argparse.SUPPRESS)  # internal: run one export, print JSON
    return p.parse_args()


def _url(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _admin_engine(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    return create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")


def make_app(url: str, storage_dir: str):
    os.environ["AUDIT_INSTANCE_PATH"] = storage_dir
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DATABASE_REPLICA_URL", None)
    from audit_app import create_app

    return create_app({"WTF_CSRF_ENABLED": False})


# --- the data --------------------------------------------------------------------------------------


def checklist_doc() -> dict:
    t = lambda en, fi: {"en": en, "fi": fi}  # noqa: E731
    sections = []
    for s, dim in enumerate(DIMS):
        questions = []
        for q in range(4):
            key = f"s{s}q{q}"
            if q == 3:
                questions.append({"key": key, "kind": "scale", "min": 1, "max": 5,
                                  "prompt": t(f"How well was situation {s}.{q} handled?",
                                              f"Kuinka hyvin tilanne {s}.{q} hoidettiin?")})
            else:
                questions.append({"key": key, "kind": "yes_no", "critical": q == 0 and s == 4,
                                  "prompt": t(f"Was requirement {s}.{q} met?", f"Täyttyikö vaatimus {s}.{q}?")})
        sections.append({"key": f"s{s}", "title": t(f"Section {s + 1}", f"Osio {s + 1}"), "dimension": dim,
                         "weight": 1 + s % 2, "questions": questions})
    return {"format": "outside-eye-checklist/1", "title": t("Bench checklist", "Testilista"),
            "critical_scope": "section", "sections": sections}


def build_fixture(app) -> dict:
    """The client, its users, 500 branches, a published checklist and one scored visit to copy."""
    from audit_app.accounts import operations as accounts
    from audit_app.checklists import operations as checklists
    from audit_app.checklists.models import Question
    from audit_app.extensions import db
    from audit_app.submissions.models import Answer
    from audit_app.submissions.operations import compute_and_store_scores
    from audit_app.visits.models import Location, Visit

    with app.app_context():
        client = accounts.create_client("Bench Bank Oyj")
        accounts.create_user(email=ADMIN, name="Bench Admin", role="admin", password=PASSWORD,
                             must_change_password=False)
        accounts.create_user(email=CLIENT_USER, name="Bench Client", role="client", client=client,
                             password=PASSWORD, must_change_password=False)
        evaluator = accounts.create_user(email="bench-eva@example.com", name="Bench Evaluator", role="evaluator",
                                         password=PASSWORD, must_change_password=False)
        version = checklists.build_version(checklist_doc())
        checklists.publish(version)
        locations = [Location(client_id=client.id, name=f"Branch {i + 1:03d}", city=f"City {i % 60}",
                              region=f"Region {i % REGIONS}") for i in range(LOCATIONS)]
        db.session.add_all(locations)
        db.session.flush()
        today = date.today()
        visit = Visit(client_id=client.id, evaluator_id=evaluator.id, checklist_version_id=version.id,
                      channel="in_person", location_id=locations[0].id, due_from=today, due_to=today,
                      status="approved", visited_on=today - timedelta(days=DAYS + 30), approved_at=datetime.now())
        db.session.add(visit)
        db.session.flush()
        questions = db.session.query(Question).filter_by(version_id=version.id).order_by(Question.id).all()
        for n, q in enumerate(questions):
            value = 1 + n % 5 if q.kind == "scale" else n % 3 != 1
            db.session.add(Answer(visit_id=visit.id, question_id=q.id, value=value, comment=""))
        db.session.flush()
        compute_and_store_scores(visit)
        db.session.commit()
        return {"client": client.id, "visit": visit.id, "locations": [loc.id for loc in locations],
                "version": version.id, "evaluator": evaluator.id}


def _secondary_indexes(conn, tables) -> list[tuple[str, str]]:
    """(name, CREATE INDEX ...) of the tables' indexes that back no constraint."""
    from sqlalchemy import text

    return [tuple(r) for r in conn.execute(text("""
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(:t)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
    """), {"t": list(tables)})]


def clone_visits(conn, fx: dict, n: int, status: str = "approved", days: int = DAYS, offset: int = 0) -> None:
    """Insert ``n`` visits copied from the fixture visit (scores varied, dated ``offset`` to
    ``offset + days - 1`` days ago, spread over the branches and channels), with their dimension
    scores and answers, in three INSERT ... SELECT statements."""
    from sqlalchemy import text

    locs = "ARRAY[" + ",".join(map(str, fx["locations"])) + "]"
    chans = "ARRAY[" + ",".join(f"'{c}'" for c in CHANNELS) + "]"
    last = conn.execute(text("SELECT max(id) FROM visits")).scalar()
    overall = "(40 + (g * 37 % 600) / 10.0)"
    dim = {d: f"LEAST(100, GREATEST(0, {overall} + {(len(d) % 7 - 3) * 4}))" for d in DIMS}
    approved = status == "approved"
    conn.execute(text(f"""
        INSERT INTO visits (client_id, location_id, channel, checklist_version_id, evaluator_id, due_from, due_to,
                            scenario, status, started_at, visited_on, submitted_at, reviewed_at, approved_at,
                            score_overall, score_critical_fail, score_data, scored_at,
                            {", ".join(f"score_{d}" for d in DIMS)}, calibration, created_at, updated_at)
        SELECT v.client_id, ({locs})[1 + g % {len(fx["locations"])}], ({chans})[1 + (g / 7) % {len(CHANNELS)}],
               v.checklist_version_id, v.evaluator_id, CURRENT_DATE - ({offset} + g % {days}),
               CURRENT_DATE - ({offset} + g % {days}), '', :status, now(), CURRENT_DATE - ({offset} + g % {days}),
               now(), {"now()" if approved else "NULL"}, {"now()" if approved else "NULL"},
               {overall}, g % 17 = 0, v.score_data, now(), {", ".join(dim[d] for d in DIMS)}, false, now(), now()
        FROM visits v, generate_series(1, :n) g WHERE v.id = :vid
    """), {"n": n, "vid": fx["visit"], "status": status})
    conn.execute(text(f"""
        INSERT INTO visit_dimension_scores (visit_id, dimension, score)
        SELECT v.id, d.dimension, CASE d.dimension {" ".join(f"WHEN '{x}' THEN v.score_{x}" for x in DIMS)} END
        FROM visits v CROSS JOIN (SELECT dimension FROM visit_dimension_scores WHERE visit_id = :vid) d
        WHERE v.id > :last
    """), {"vid": fx["visit"], "last": last})
    conn.execute(text("""
        INSERT INTO answers (visit_id, question_id, value, na, comment, answered_at, updated_at, fraction, failed)
        SELECT v.id, a.question_id, a.value, a.na, '', now(), now(), a.fraction,
               CASE WHEN a.fraction IS NULL THEN false ELSE (v.id + a.question_id) % 9 = 0 END
        FROM visits v CROSS JOIN (SELECT * FROM answers WHERE visit_id = :vid) a
        WHERE v.id > :last
    """), {"vid": fx["visit"], "last": last})


def build_template(args, template_url: str, storage_dir: str) -> None:
    from sqlalchemy import text

    admin = _admin_engine(args.database_url)
    template = template_url.rsplit("/", 1)[-1]
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE false')) if conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": template}) else None
        conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{template}"'))
    admin.dispose()
    app = make_app(template_url, storage_dir)
    from flask_migrate import upgrade

    from audit_app.extensions import db

    t0 = time.perf_counter()
    with app.app_context():
        upgrade()
    fx = build_fixture(app)
    t1 = time.perf_counter()
    tables = ("visits", "answers", "visit_dimension_scores")
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("SET session_replication_role = replica"))  # no foreign-key triggers during the load
        indexes = _secondary_indexes(conn, tables)
        for name, _sql in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        done = 0
        while done < args.visits:  # chunks keep each statement's memory and WAL moderate
            n = min(250_000, args.visits - done)
            clone_visits(conn, fx, n)
            done += n
            print(f"  {done} visits loaded ({time.perf_counter() - t1:.0f} s)", flush=True)
        conn.execute(text("SET maintenance_work_mem = '256MB'"))
        for _name, sql in indexes:
            conn.execute(text(sql))
        conn.execute(text("SET session_replication_role = origin"))
        # the fixture visit (dated before the bench's period) is not one of the counted visits
        conn.execute(text("UPDATE visits SET status = 'rejected' WHERE id = :id"), {"id": fx["visit"]})
    t2 = time.perf_counter()
    print(f"  indexes rebuilt ({t2 - t1:.0f} s for the load)", flush=True)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_meta (data text)"))
        conn.execute(text("INSERT INTO bench_meta VALUES (:d)"), {"d": json.dumps(
            {"data_version": DATA_VERSION, "visits": args.visits, "built": date.today().isoformat(),
             "fixture": fx})})
    with app.app_context():
        db.engine.dispose()
    rebuild_rollups(template_url, storage_dir)
    print(f"built the data ({args.visits} approved visits) in {time.perf_counter() - t0:.0f} s "
          f"(load {t2 - t1:.0f} s)", flush=True)


def rollups_version() -> str:
    """What the rebuilt rollups are made by (their tables and ``rebuild`` with what it calls): the
    template's rollups are rebuilt when this code changes."""
    import hashlib
    import inspect

    from audit_app.reports import rollups

    code = [inspect.getsource(f) for f in (rollups.counted, rollups.rebuild, rollups._insert,
                                           rollups._insert_sections, rollups._derive, rollups._day_expr)]
    code.append((ROOT / "audit_app/reports/rollup_models.py").read_text("utf-8"))
    return hashlib.sha256("".join(code).encode()).hexdigest()[:16]


def rebuild_rollups(template_url: str, storage_dir: str) -> None:
    """``rollups.rebuild()`` on the template (after the bulk load, or when the rollups' code changed),
    then VACUUM ANALYZE, and the rollups' version in bench_meta."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    app = make_app(template_url, storage_dir)
    from audit_app.extensions import db
    from audit_app.reports import rollups

    t0 = time.perf_counter()
    with app.app_context():
        upgrade()
        counted = rollups.rebuild()
        db.session.commit()
    t1 = time.perf_counter()
    print(f"  rollups.rebuild(): {counted} visits in {t1 - t0:.0f} s", flush=True)
    with app.app_context(), db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    with app.app_context(), db.engine.begin() as conn:
        meta = json.loads(conn.execute(text("SELECT data FROM bench_meta")).scalar())
        meta["rollups"] = rollups_version()
        conn.execute(text("UPDATE bench_meta SET data = :d"), {"d": json.dumps(meta)})
    with app.app_context():
        db.engine.dispose()


def template_meta(url: str, template_url: str) -> dict | None:
    from sqlalchemy import create_engine, text

    admin = _admin_engine(url)
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": template_url.rsplit("/", 1)[-1]})
    admin.dispose()
    if not exists:
        return None
    engine = create_engine(template_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT to_regclass('bench_meta') IS NOT NULL")):
                return None
            return json.loads(conn.scalar(text("SELECT data FROM bench_meta")) or "{}")
    finally:
        engine.dispose()


def fresh_copy(url: str, template_url: str) -> None:
    from sqlalchemy import text

    name, template = url.rsplit("/", 1)[-1], template_url.rsplit("/", 1)[-1]
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'))
    admin.dispose()


# --- the figures -----------------------------------------------------------------------------------


def percentile(times: list[float], q: float) -> float:
    times = sorted(times)
    return times[max(0, int(round(q * len(times))) - 1)]


def login(app, email: str):
    http = app.test_client()
    r = http.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.status_code
    return http


def time_dashboard(app, fx: dict, requests: int) -> None:
    http = login(app, CLIENT_USER)
    today = date.today()
    year = f"start={today - timedelta(days=364)}&end={today}"
    alltime = f"start={today - timedelta(days=DAYS - 1)}&end={today}"
    loc = fx["locations"][7]
    groups = {
        "one year": [f"/dashboard?{year}", f"/dashboard?{year}&region=Region+3", f"/dashboard?{year}&channel=phone",
                     f"/dashboard?{year}&location_id={loc}"],
        "all time (5 years)": [f"/dashboard?{alltime}", f"/dashboard?{alltime}&region=Region+3",
                               f"/dashboard?{alltime}&channel=chat", f"/dashboard?{alltime}&location_id={loc}"],
    }
    for label, urls in groups.items():
        for url in urls:
            assert http.get(url).status_code == 200, url  # warm-up
        times = []
        for i in range(requests):
            url = urls[i % len(urls)]
            t0 = time.perf_counter()
            response = http.get(url)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200
        print(f"dashboard, {label}: p50 {statistics.median(times) * 1000:.0f} ms, "
              f"p95 {percentile(times, 0.95) * 1000:.0f} ms over {len(times)} requests "
              f"(no filter, a region, a channel, a branch; target p95 < 100 ms)", flush=True)


def summary_period(app, fx: dict, visits: int) -> tuple[date, date, int]:
    """The period ending today that holds about ``visits`` counted visits."""
    from sqlalchemy import text

    from audit_app.extensions import db

    with app.app_context():
        rows = db.session.execute(text("""
            SELECT visited_on, count(*) FROM visits WHERE client_id = :c AND status = 'approved'
            GROUP BY visited_on ORDER BY visited_on DESC"""), {"c": fx["client"]}).all()
    total, start = 0, date.today()
    for day, n in rows:
        if total + n > visits and total:
            break
        total, start = total + n, day
    return start, date.today(), total


def time_summary(app, fx: dict, visits: int, repeat: int = 3) -> None:
    from flask_babel import force_locale

    from audit_app.evidence.storage import get_storage
    from audit_app.reports import operations
    from audit_app.reports.rendering import render_pdf

    start, end, n = summary_period(app, fx, visits)
    with app.test_request_context(), force_locale("en"):
        storage = get_storage()
        times, out = [], {}
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            report = operations.build_report("client", fx["client"], "", start, end, "en")
            out["pdf"], out["report"] = render_pdf(report, storage=storage, cache={}), report
            times.append(time.perf_counter() - t0)
    times = times[1:]  # the first one warms up fonts and matplotlib
    report = out["report"]
    print(f"client summary PDF ({len(report.locations)} locations, {report.overall['n']} visits, {start}..{end}, "
          f"{len(out['pdf']) // 1024} KiB): median {statistics.median(times):.2f} s, best {min(times):.2f} s "
          f"(target < 5 s)", flush=True)
    del n


def export_child(args) -> None:
    """In the child process: one export through the real view, streamed, counted; JSON on stdout."""
    app = make_app(args.database_url, os.environ["AUDIT_INSTANCE_PATH"])
    http = login(app, CLIENT_USER)
    base = peak_rss_kib()
    t0 = time.perf_counter()
    response = http.get(args.export_child, buffered=False)
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "bytes": size, "rows": lines - 1, "rss_before_kib": base,
                      "maxrss_kib": peak_rss_kib()}))


def peak_rss_kib() -> int:
    """This process's peak RSS: VmHWM (per process image; ru_maxrss would carry the parent's peak
    across fork and exec on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def time_export(args, fx: dict, storage_dir: str) -> None:
    today = date.today()
    url = f"/reports/clients/{fx['client']}/export/visits.csv?start={today - timedelta(days=DAYS - 1)}&end={today}"
    env = dict(os.environ, AUDIT_INSTANCE_PATH=storage_dir)
    out = subprocess.run([sys.executable, __file__, "--database-url", args.database_url, "--export-child", url],
                         env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        print(out.stderr[-3000:])
        raise SystemExit("the export failed")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"visits export (CSV, the real view, a child process): {r['rows']} rows, {r['bytes'] / 2**20:.0f} MiB "
          f"in {r['seconds']:.1f} s = {r['rows'] / r['seconds']:,.0f} rows/s (target >= 50,000); peak RSS "
          f"{r['maxrss_kib'] / 1024:.0f} MB (target < 250 MB; {r['rss_before_kib'] / 1024:.0f} MB before the "
          f"request, the app loaded)", flush=True)


def time_approvals(app, fx: dict, n: int, block: int = 50) -> None:
    """Approve ``n`` visits through the real view with the rollups' refresh and ``n`` without it (its
    receivers disconnected here, in the bench), in alternating blocks; prints the mean times and ratio."""
    from sqlalchemy import text

    from audit_app.extensions import db
    from audit_app.reports import rollups
    from audit_app.visits.signals import scores_stored, status_changed

    with app.app_context(), db.engine.begin() as conn:
        first = conn.execute(text("SELECT max(id) FROM visits")).scalar() + 1
        clone_visits(conn, fx, 2 * n, status="submitted", days=28)
        ids = [r[0] for r in conn.execute(text("SELECT id FROM visits WHERE id >= :f ORDER BY id"), {"f": first})]
    with app.app_context(), db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE visits, answers"))
    http = login(app, ADMIN)

    def approve(vid):
        t0 = time.perf_counter()
        r = http.post(f"/admin/visits/{vid}/approve")
        assert r.status_code == 302, (r.status_code, vid)
        return time.perf_counter() - t0

    on = list(ids[0::2])
    off = list(ids[1::2])
    with_r, without = [], []
    for k in range(0, n, block):
        for vid in on[k:k + block]:
            with_r.append(approve(vid))
        status_changed.disconnect(rollups._on_status)
        scores_stored.disconnect(rollups._on_scores)
        try:
            for vid in off[k:k + block]:
                without.append(approve(vid))
        finally:
            status_changed.connect(rollups._on_status)
            scores_stored.connect(rollups._on_scores)
    a, b = statistics.mean(with_r), statistics.mean(without)
    ma, mb = statistics.median(with_r), statistics.median(without)
    print(f"approval through the view, {len(with_r)} with rollups: mean {a * 1000:.1f} ms (median {ma * 1000:.1f}); "
          f"{len(without)} without: mean {b * 1000:.1f} ms (median {mb * 1000:.1f}); ratio {a / b:.2f} (means), "
          f"{ma / mb:.2f} (medians) (target <= 1.5)", flush=True)
    with app.app_context():
        from sqlalchemy import func, select

        from audit_app.reports.rollup_models import VisitRollup

        rolled = db.session.scalar(select(func.sum(VisitRollup.visits)).where(
            VisitRollup.client_id == fx["client"], VisitRollup.grain == "m"))
        counted = db.session.scalar(text("SELECT count(*) FROM visits WHERE client_id = :c AND status = 'approved'"
                                         " AND NOT calibration"), {"c": fx["client"]})
    print(f"  check: the month rollups count {rolled} visits; {counted} approved visits; the {len(without)} "
          f"approved without rollups are the difference ({counted - rolled})", flush=True)


def main() -> None:
    args = parse()
    if args.export_child:
        export_child(args)
        return
    skip = set(filter(None, args.skip.split(",")))
    name = args.database_url.rsplit("/", 1)[-1]
    template_url = _url(args.database_url, f"{name}_template")
    storage_dir = str(Path(tempfile.gettempdir()) / f"scale-bench-{name}")
    Path(storage_dir).mkdir(parents=True, exist_ok=True)
    ensure_database(args.database_url)
    meta = None if args.rebuild else template_meta(args.database_url, template_url)
    fresh = meta and (date.today() - date.fromisoformat(meta.get("built", "2000-01-01"))).days < CACHE_DAYS
    if not (meta and fresh and meta.get("data_version") == DATA_VERSION and meta.get("visits") == args.visits):
        print(f"building {args.visits} visits in {template_url} ...", flush=True)
        build_template(args, template_url, storage_dir)
        meta = template_meta(args.database_url, template_url)
    elif meta.get("rollups") != rollups_version():
        print("the rollups' code changed: rebuilding the template's rollups ...", flush=True)
        rebuild_rollups(template_url, storage_dir)
    else:
        print(f"reusing {template_url} ({args.visits} approved visits, built {meta['built']}; --rebuild to build "
              f"it again)", flush=True)
    fx = meta["fixture"]
    t0 = time.perf_counter()
    fresh_copy(args.database_url, template_url)
    app = make_app(args.database_url, storage_dir)
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()  # a migration added since the template was built
    print(f"fresh copy {args.database_url} in {time.perf_counter() - t0:.0f} s", flush=True)
    if "dashboard" not in skip:
        time_dashboard(app, fx, args.requests)
    if "summary" not in skip:
        time_summary(app, fx, args.summary_visits)
    if "export" not in skip:
        time_export(args, fx, storage_dir)
    if "approval" not in skip:
        time_approvals(app, fx, args.approvals)


if __name__ == "__main__":
    main()
