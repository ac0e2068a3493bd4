"""Exports stream (issue 20): CSV and XLSX of visits and answers are written as the rows come, from a
server-side cursor, in memory that does not grow with the export. An export several times larger
than a memory bound completes under it; the content and the access rules are unchanged."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import date, timedelta

import pytest
from sqlalchemy import event, insert, select, text

from tests import factories

VISITS = 30_000
#: tracemalloc peak allowed while a whole export streams; far below what its rows or its file take.
#: The peak is about a chunk of rows (2.2-2.5 MiB, whatever the size); the bound leaves room for
#: what other threads of the process (the outbox's delivery) allocate meanwhile
MEMORY_BOUND = 7 * 1024 * 1024 // 2
LONG_NAME = "Kauppakeskus Itäkeskuksen palvelupiste, katutaso, sisäänkäynti B " * 2  # locations.name: 160
LONG_CITY = "Helsinki, Itäkeskus, Turunlinnantie 8, palvelupisteen katutaso"
LONG_REGION = "Uusimaa, Itä-Helsingin suurpiiri, Vartiokylän peruspiiri"


def _build(app, world, visits: int) -> dict:
    """Client A: ``visits`` approved visits (the worked example's answers and scores, copied in bulk, a
    hundred a day), plus a submitted one, a calibration one and client B's, which no export of client A
    may contain."""
    from audit_app.accounts.models import Client, User
    from audit_app.extensions import db
    from audit_app.visits.models import Visit

    with app.app_context():
        client = db.session.get(Client, world.ids["client_a"])
        other = db.session.get(Client, world.ids["client_b"])
        evaluator = db.session.get(User, world.ids["evaluator"])
        version = factories.make_version()
        loc = factories.make_location(client, name=LONG_NAME, city=LONG_CITY, region=LONG_REGION)
        today = date.today()
        first = factories.make_scored_visit(client, evaluator, version=version, location=loc,
                                            visited_on=today - timedelta(days=1))
        db.session.commit()
        row = dict(db.session.execute(select(Visit.__table__).where(Visit.id == first.id)).mappings().one())
        row.pop("id")
        batch = []
        for i in range(visits - 1):
            batch.append({**row, "visited_on": today - timedelta(days=1 + i % (visits // 100 or 1)),
                          "score_overall": 20.0 + i % 80})
        db.session.execute(insert(Visit.__table__), batch)
        db.session.execute(text(
            "INSERT INTO visit_dimension_scores (visit_id, dimension, score) "
            "SELECT v.id, d.dimension, d.score FROM visits v JOIN visit_dimension_scores d ON d.visit_id = :fid "
            "WHERE v.id > :fid"), {"fid": first.id})
        db.session.execute(text(
            "INSERT INTO answers (visit_id, question_id, value, na, comment, answered_at, updated_at, fraction, failed) "
            "SELECT v.id, a.question_id, a.value, a.na, 'The clerk read my ID number aloud', a.answered_at, "
            "a.updated_at, a.fraction, a.failed FROM visits v JOIN answers a ON a.visit_id = :fid "
            "WHERE v.id > :fid"), {"fid": first.id})
        hidden = {
            "submitted": factories.make_scored_visit(client, evaluator, version=version, status="submitted",
                                                     visited_on=today).id,
            "calibration": factories.make_scored_visit(client, evaluator, version=version, visited_on=today).id,
            "other": factories.make_scored_visit(other, evaluator, version=version, visited_on=today).id,
        }
        db.session.get(Visit, hidden["calibration"]).calibration = True
        db.session.commit()
        answers_per_visit = db.session.scalar(text("SELECT count(*) FROM answers WHERE visit_id = :v"),
                                              {"v": first.id})
    return {"client": world.ids["client_a"], "hidden": hidden, "answers": answers_per_visit, "visits": visits,
            "start": (today - timedelta(days=400)).isoformat(), "end": today.isoformat()}


@pytest.fixture
def big(app, world):
    return _build(app, world, VISITS)


@pytest.fixture
def small(app, world):
    return _build(app, world, 300)


def _download(response) -> tuple[int, int, bytes, int]:
    """Consume a streamed response chunk by chunk, as a client would: (its size, its lines, its first
    64 KiB, the tracemalloc peak while it streamed)."""
    tracemalloc.start()
    try:
        size, lines, head = 0, 0, b""
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\n")
            if len(head) < 65536:
                head += chunk
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    return size, lines, head, peak


def _url(data, kind, fmt, **extra):
    args = "&".join(f"{k}={v}" for k, v in {"start": data["start"], "end": data["end"], **extra}.items())
    return f"/reports/clients/{data['client']}/export/{kind}.{fmt}?{args}"


def _ids(response) -> list[int]:
    text_all = b"".join(response.response).decode("utf-8-sig")
    return [int(r[0]) for r in list(csv.reader(io.StringIO(text_all)))[1:]]


def test_csv_exports_larger_than_the_memory_bound_stream_under_it(app, big, login_as):
    client = login_as("client")
    answers_start = (date.today() - timedelta(days=60)).isoformat()  # the last 60 days: 6,001 visits' answers
    for kind, extra, rows in (("visits", {}, VISITS), ("answers", {"start": answers_start}, 6001 * big["answers"])):
        _download(client.get(_url(big, kind, "csv", channel="chat"), buffered=False))  # imports, compiled SQL
        response = client.get(_url(big, kind, "csv", **extra), buffered=False)
        assert response.status_code == 200 and response.is_streamed
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        size, lines, head, peak = _download(response)
        assert lines == 1 + rows  # every row is there
        assert head.startswith("\ufeff".encode()) and LONG_NAME.encode() in head
        assert size > 2 * MEMORY_BOUND, size  # the file is more than twice the bound ...
        assert peak < MEMORY_BOUND, f"{kind}: peak {peak / 2**20:.1f} MiB streaming {size / 2**20:.1f} MiB"  # ... memory not


def test_an_xlsx_export_is_written_and_streamed_under_the_bound(app, big, login_as):
    import zipfile

    from openpyxl import load_workbook

    client = login_as("client")
    client.get(_url(big, "visits", "xlsx", channel="chat")).close()
    start = (date.today() - timedelta(days=120)).isoformat()  # the last 120 days: 12,001 visits
    tracemalloc.start()
    try:
        response = client.get(_url(big, "visits", "xlsx", start=start), buffered=False)  # written here
        _, written = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    length = int(response.headers["Content-Length"])
    tracemalloc.start()
    try:
        out = io.BytesIO()
        for chunk in response.response:
            out.write(chunk)
            del chunk
        _, streamed = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    streamed -= length  # the test's own copy of the file
    assert out.tell() == length
    sheet = max(zipfile.ZipFile(out).infolist(), key=lambda i: i.file_size)
    assert sheet.file_size > 2 * MEMORY_BOUND, sheet.file_size  # the sheet is more than twice the bound ...
    assert written < MEMORY_BOUND, f"writing: peak {written / 2**20:.1f} MiB"  # ... memory is not
    assert streamed < MEMORY_BOUND, f"streaming: peak {streamed / 2**20:.1f} MiB"
    rows = list(load_workbook(out, read_only=True).active.values)
    assert len(rows) == 1 + 12_001 and rows[0][0] == "Käynti"  # the client reads Finnish by default
    assert not {r[0] for r in rows[1:]} & set(big["hidden"].values())


def test_exports_read_from_a_server_side_cursor(app, small, login_as):
    """On PostgreSQL the export's rows come from a named (server-side) cursor, a chunk at a time."""
    from audit_app.extensions import db

    seen = []

    def record(conn, cursor, statement, params, context, executemany):
        if "FROM visits" in statement and "ORDER BY visits.visited_on" in statement:
            seen.append((type(cursor).__name__, context.execution_options.get("stream_results")))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for kind in ("visits", "answers"):
            _download(login_as("client").get(_url(small, kind, "csv"), buffered=False))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 2 and all(stream for _, stream in seen)
    if engine.dialect.name == "postgresql":
        assert all(name == "ServerCursor" for name, _ in seen), seen


def test_exports_keep_their_content_and_access_rules(app, small, login_as):
    client = login_as("client")
    for kind in ("visits", "answers"):
        ids = _ids(client.get(_url(small, kind, "csv")))
        assert len(ids) == 300 * (1 if kind == "visits" else small["answers"])
        assert len(set(ids)) == 300 and not set(ids) & set(small["hidden"].values())  # released visits only
    # the admin gets the same released visits: calibration and submitted visits are never exported
    assert sorted(set(_ids(login_as("admin").get(_url(small, "visits", "csv"))))) == sorted(set(ids))
    other = login_as("other_client")
    for kind in ("visits", "answers"):
        for fmt in ("csv", "xlsx"):
            assert other.get(_url(small, kind, fmt)).status_code == 404
    assert login_as("evaluator").get(_url(small, "visits", "csv")).status_code in (302, 403, 404)
    assert client.get(_url(small, "visits", "csv", start="nonsense")).status_code == 400
