"""Read replica (issue 20): with ``DATABASE_REPLICA_URL`` the dashboard, the reports and the exports read
from the replica; writes, and the reads a write needs, stay on the primary; without it everything
reads the primary.

A second database stands in for the replica (a second SQLite file, or a second PostgreSQL database,
read-only as a hot standby is). It holds a copy of the primary's rows with one difference, the
location's name, so a page shows which database it was read from; a listener on each engine records
the statements each one ran."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select, text, update

from tests import factories
from tests.conftest import (
    _TMP,
    CHEAP_PASSWORD_HASH,
    TEST_DB,
    Browser,
    database_url,
    make_test_app,
    own_postgresql_database,
    sqlalchemy_url,
)

PRIMARY_NAME = "Primary branch"
REPLICA_NAME = "Replica branch"
REPORT_TABLES = re.compile(r"\b(visits|answers|visit_dimension_scores|rollup_\w+)\b")


@pytest.fixture(scope="session")
def replica_url():
    """A second database with the schema, built by the migrations."""
    if TEST_DB:
        url = sqlalchemy_url(own_postgresql_database(TEST_DB.rsplit("/", 1)[-1] + "_replica"))
    else:
        url = f"sqlite:///{Path(_TMP) / 'replica.sqlite3'}"
    make_test_app(url)
    return url


class Recorder:
    """The statements an engine ran, by engine."""

    def __init__(self, engines: dict):
        self.engines = engines
        self.seen: dict[str, list[str]] = {name: [] for name in engines}
        self._listeners = {}

    def __enter__(self):
        for name, engine in self.engines.items():
            def record(conn, cursor, statement, params, context, executemany, name=name):
                self.seen[name].append(statement)
            self._listeners[name] = record
            event.listen(engine, "before_cursor_execute", record)
        return self

    def __exit__(self, *exc):
        for name, engine in self.engines.items():
            event.remove(engine, "before_cursor_execute", self._listeners[name])

    def reads_of_report_tables(self, name: str) -> list[str]:
        return [s for s in self.seen[name] if REPORT_TABLES.search(s)]

    def writes(self, name: str) -> list[str]:
        return [s for s in self.seen[name] if s.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]


@pytest.fixture
def setup(app, world, replica_url):
    """Client A with a location, two approved visits and a submitted one on the primary, their rollups
    built; the replica a copy of every table with the location renamed; an app that reads the replica."""
    from audit_app import create_app
    from audit_app.accounts.models import Client, User
    from audit_app.config import replica_settings
    from audit_app.extensions import db
    from audit_app.reports import rollups
    from audit_app.visits.models import Location

    today = date.today()
    with app.app_context():
        client = db.session.get(Client, world.ids["client_a"])
        evaluator = db.session.get(User, world.ids["evaluator"])
        version = factories.make_version()
        loc = factories.make_location(client, name=PRIMARY_NAME)
        for days in (3, 5):
            factories.make_scored_visit(client, evaluator, version=version, location=loc,
                                        visited_on=today - timedelta(days=days))
        pending = factories.make_scored_visit(client, evaluator, version=version, location=loc, status="submitted",
                                              visited_on=today - timedelta(days=1))
        rollups.rebuild()
        db.session.commit()
        ids = {"client": client.id, "location": loc.id, "pending": pending.id}
        tables = list(db.metadata.sorted_tables)
        # the test's own engine loads the copy (the app's connections to a PostgreSQL replica are read-only)
        with db.engine.connect() as src, create_engine(replica_url).begin() as dst:
            for table in reversed(tables):
                dst.execute(table.delete())
            for table in tables:
                rows = [dict(r) for r in src.execute(select(table)).mappings()]
                if rows:
                    dst.execute(table.insert(), rows)
            dst.execute(update(Location.__table__).where(Location.__table__.c.id == loc.id).values(name=REPLICA_NAME))
    replicated = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url(), "SERVER_NAME": None,
                             "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH, **replica_settings(replica_url)})
    with replicated.app_context():
        engines = {"primary": db.engine, "replica": db.engines["replica"]}
    yield {"app": replicated, "engines": engines, "ids": ids, "replica_url": replica_url}
    for engine in engines.values():
        engine.dispose()


def _browser(app, world, role: str) -> Browser:
    b = Browser(app)
    assert b.login(world.emails[role]).status_code == 302
    return b


def _pages(ids) -> list[str]:
    c, loc = ids["client"], ids["location"]
    start = (date.today() - timedelta(days=30)).isoformat()
    return [
        f"/dashboard?start={start}",
        f"/reports/locations/{loc}?start={start}",
        f"/reports/clients/{c}/summary?start={start}",
        f"/reports/clients/{c}/export/visits.csv?start={start}",
        f"/reports/clients/{c}/export/answers.csv?start={start}",
        f"/reports/clients/{c}/export/visits.xlsx?start={start}",
    ]


def test_dashboards_reports_and_exports_read_the_replica(setup, world):
    client = _browser(setup["app"], world, "client")
    for url in _pages(setup["ids"]):
        with Recorder(setup["engines"]) as rec:
            response = client.get(url)
            body = response.get_data()
        assert response.status_code == 200, url
        if ".xlsx" not in url:
            text_ = body.decode("utf-8-sig")
            assert REPLICA_NAME in text_ and PRIMARY_NAME not in text_, url  # what the page shows came from the replica
        assert rec.reads_of_report_tables("replica"), url
        assert rec.reads_of_report_tables("primary") == [], (url, rec.reads_of_report_tables("primary"))
        assert rec.writes("replica") == [], url
    xlsx = client.get(_pages(setup["ids"])[-1])
    from io import BytesIO

    from openpyxl import load_workbook

    names = {row[2] for row in list(load_workbook(BytesIO(xlsx.data), read_only=True).active.values)[1:]}
    assert names == {REPLICA_NAME}


def test_writes_and_what_they_read_stay_on_the_primary(setup, world, app):
    """Approving a visit writes the visit, the trail and the rollups on the primary, reading the primary
    for them (the rollups are recomputed from the visits the write just changed); the replica is not
    touched. Signing in (sessions, the throttle) is a write too."""
    from audit_app.extensions import db
    from audit_app.visits.models import Visit

    with Recorder(setup["engines"]) as rec:
        admin = _browser(setup["app"], world, "admin")
        response = admin.post(f"/admin/visits/{setup['ids']['pending']}/approve")
    assert response.status_code == 302
    assert rec.seen["replica"] == []
    assert rec.writes("primary") and any("visits" in s for s in rec.writes("primary"))
    with app.app_context():
        assert db.session.get(Visit, setup["ids"]["pending"]).status == "approved"
    with create_engine(setup["replica_url"]).connect() as conn:  # the stand-in replica is not replicated
        assert conn.execute(text("SELECT status FROM visits WHERE id = :i"), {"i": setup["ids"]["pending"]}).scalar() \
            == "submitted"


def test_without_a_replica_everything_reads_the_primary(setup, world, app, login_as):
    client = login_as("client")
    for url in _pages(setup["ids"])[:4]:
        response = client.get(url)
        assert response.status_code == 200
        text_ = response.get_data().decode("utf-8-sig")
        assert PRIMARY_NAME in text_ and REPLICA_NAME not in text_, url
    with app.app_context():
        from audit_app.extensions import db

        assert "replica" not in db.engines


def test_replica_configuration(monkeypatch):
    from audit_app.config import ConfigError, load_config

    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    config = load_config()
    assert config["DATABASE_REPLICA_URL"] == "" and "replica" not in config.get("SQLALCHEMY_BINDS", {})
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://reader@replica.internal:5432/audit")
    config = load_config()
    bind = config["SQLALCHEMY_BINDS"]["replica"]
    assert bind["url"] == config["DATABASE_REPLICA_URL"] == "postgresql+psycopg://reader@replica.internal:5432/audit"
    assert "default_transaction_read_only=on" in bind["connect_args"]["options"]
    assert config["SQLALCHEMY_DATABASE_URI"] != bind["url"]
    monkeypatch.setenv("DATABASE_REPLICA_URL", "not a url")
    with pytest.raises(ConfigError, match="DATABASE_REPLICA_URL"):
        load_config()
    assert os.environ.get("DATABASE_URL") is None
