"""Test fixtures: an app whose schema is built by running the migrations.

The database is SQLite in a temporary folder, or the PostgreSQL named by
``TEST_DATABASE_URL`` (``.ci/run`` sets it). Every test starts from empty tables.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

TEST_DB = os.environ.get("TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
_TMP = tempfile.mkdtemp(prefix="audit-tests-")
os.environ["AUDIT_INSTANCE_PATH"] = _TMP
os.environ.pop("DATABASE_URL", None)


def service_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip locally when a service is down; in CI (CI=true) a missing service is a failure."""
    if service_reachable(host, port):
        return
    if IN_CI:
        pytest.fail(f"{name} at {host}:{port} is required in CI but is not reachable")
    pytest.skip(f"{name} at {host}:{port} is not reachable")


@pytest.fixture
def redis_queue(app, request):
    """Real Redis configured for the app, at the test module's ``REDIS_URL`` (each file its own DB
    number); that DB emptied before and after. Yields the connection."""
    require_service("Redis", "127.0.0.1", 6379)
    from redis import Redis

    url = request.module.REDIS_URL
    connection = Redis.from_url(url)
    connection.flushdb()
    app.config["REDIS_URL"] = url
    try:
        yield connection
    finally:
        app.config["REDIS_URL"] = ""
        connection.flushdb()
        connection.close()


def sqlalchemy_url(url: str) -> str:
    """A PostgreSQL URL as the app's configuration turns it into an engine URL."""
    from audit_app.config import _database_url

    os.environ["DATABASE_URL"] = url
    try:
        return _database_url(Path(_TMP))
    finally:
        os.environ.pop("DATABASE_URL", None)


def database_url() -> str:
    if TEST_DB:
        return sqlalchemy_url(TEST_DB)
    return f"sqlite:///{Path(_TMP) / 'test.sqlite3'}"


#: one round of PBKDF2 instead of scrypt (~0.1 s a hash); test_accounts keeps one test on scrypt
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1"


def make_test_app(url: str):
    """An app on ``url`` with its schema built by the migrations (a PostgreSQL schema is reset first)."""
    from flask_migrate import upgrade

    from audit_app import create_app
    from audit_app.extensions import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": None,
                      "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


def own_postgresql_database(name: str, host: str = "127.0.0.1", port: int = 5432) -> str:
    """The URL of a PostgreSQL database of a test's own, made if missing (skip locally, fail in CI if down)."""
    import psycopg

    require_service("PostgreSQL", host, port)
    with psycopg.connect(f"postgresql://postgres@{host}:{port}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@{host}:{port}/{name}"


@pytest.fixture(scope="session")
def app():
    yield make_test_app(database_url())


@pytest.fixture(autouse=True)
def _clean_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from audit_app.evidence import jobs
    from audit_app.extensions import db

    try:  # a photo's blurring, started by this test, ends before its rows go ...
        jobs.drain(timeout=15)
    except TimeoutError:  # ... unless it waits between tries (storage down): it finds its row gone
        pass
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            _truncate(db.engine, tables)
            return
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            conn.execute(text(BUILTIN_DIMENSIONS_SQL))


def _truncate(engine, tables) -> None:
    """Empty every table on PostgreSQL. A transaction a test left open (a streamed response never
    closed, a thread) would make TRUNCATE wait for ever; after a while it is ended, with a warning
    naming it, instead of hanging the run."""
    import warnings

    from sqlalchemy.exc import OperationalError

    statement = text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            conn.execute(statement)
            conn.execute(text(BUILTIN_DIMENSIONS_SQL))
        return
    except OperationalError:
        pass
    with engine.begin() as conn:
        left = conn.execute(text(
            "SELECT pid, state, left(query, 200) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).all()
        warnings.warn(f"a test left transactions open; ended: {left}", stacklevel=1)
        for pid, _, _ in left:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with engine.begin() as conn:
        conn.execute(statement)
        conn.execute(text(BUILTIN_DIMENSIONS_SQL))


# the five built-in dimensions are seeded by a migration; tests start from them again
BUILTIN_DIMENSIONS_SQL = """
INSERT INTO dimensions (code, name, builtin, position) VALUES
 ('reachability', '{"en": "Reachability", "fi": "Tavoitettavuus"}', true, 1),
 ('effortlessness', '{"en": "Effortlessness", "fi": "Vaivattomuus"}', true, 2),
 ('empathy', '{"en": "Empathy", "fi": "Empatia"}', true, 3),
 ('transparency', '{"en": "Transparency", "fi": "Avoimuus ja selkeys"}', true, 4),
 ('privacy', '{"en": "Privacy", "fi": "Yksityisyys ja tietoturva"}', true, 5)
"""


@pytest.fixture
def db_session(app):
    from audit_app.extensions import db

    with app.app_context():
        yield db.session
        db.session.rollback()


PASSWORD = "correct-horse-battery"


class World:
    """Two clients with one client user each, an admin and two evaluators."""

    def __init__(self, app):
        from audit_app.accounts import operations
        from audit_app.extensions import db

        with app.app_context():
            self.client_a = operations.create_client("Client A")
            self.client_b = operations.create_client("Client B")
            mk = dict(password=PASSWORD, must_change_password=False)
            self.admin = operations.create_user(email="admin@t.example", name="Admin", role="admin", **mk)
            self.evaluator = operations.create_user(email="eva@t.example", name="Eva Evaluator", role="evaluator", **mk)
            self.evaluator2 = operations.create_user(email="evan@t.example", name="Evan Other", role="evaluator", **mk)
            self.client_user = operations.create_user(
                email="client@a.example", name="Client A User", role="client", client=self.client_a, **mk
            )
            self.other_client_user = operations.create_user(
                email="client@b.example", name="Client B User", role="client", client=self.client_b, **mk
            )
            db.session.commit()
            self.ids = {
                "client_a": self.client_a.id,
                "client_b": self.client_b.id,
                "admin": self.admin.id,
                "evaluator": self.evaluator.id,
                "evaluator2": self.evaluator2.id,
                "client_user": self.client_user.id,
                "other_client_user": self.other_client_user.id,
            }
        self.emails = {
            "admin": "admin@t.example",
            "evaluator": "eva@t.example",
            "evaluator2": "evan@t.example",
            "other_evaluator": "evan@t.example",
            "client": "client@a.example",
            "other_client": "client@b.example",
        }
        self._cache: dict = {}

    def once(self, name: str, make):
        """Build an object for URL arguments once per test (inside an app context)."""
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]


@pytest.fixture
def world(app):
    return World(app)


CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Browser:
    """A test client that knows its CSRF token, like a browser that loaded a form."""

    def __init__(self, app):
        self.client = app.test_client()
        self._token = None

    def token(self) -> str:
        if self._token is None:
            # every page carries the language switch form, and with it the token
            html = self.client.get("/login", follow_redirects=True).get_data(as_text=True)
            found = CSRF_RE.search(html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
            assert found, "no CSRF token on the page"
            self._token = found.group(1)
        return self._token

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.token()
        return self.client.post(url, data=data, **kw)

    def post_json(self, url, payload, csrf=True, **kw):
        headers = kw.pop("headers", {})
        if csrf:
            headers["X-CSRFToken"] = self.token()
        return self.client.post(url, json=payload, headers=headers, **kw)

    def login(self, email, password=PASSWORD):
        response = self.post("/login", {"email": email, "password": password})
        self._token = None  # a new session after sign-in
        return response


@pytest.fixture
def browser(app):
    return Browser(app)


@pytest.fixture
def login_as(app, world):
    def make(role: str) -> Browser:
        b = Browser(app)
        if role != "anonymous":
            response = b.login(world.emails[role])
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return b

    return make


# --- a real browser ---------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served over HTTP on 127.0.0.1 in a background thread (same database)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# reports every Content-Security-Policy violation of a page to the test (the console message
# says the same, but a violation event also names the directive and what it refused)
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolation([e.effectiveDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber, e.sample].join(" | "));
});
"""


def watch_csp(context, violations: list) -> None:
    """Collect the Content-Security-Policy violations of every page of a browser context in ``violations``:
    the browser's console messages about the policy and the pages' ``securitypolicyviolation`` events."""
    context.expose_binding("__cspViolation", lambda source, text: violations.append(f"{source['page'].url}: {text}"))
    context.add_init_script(CSP_WATCH)
    context.on("console", lambda message: "Content Security Policy" in message.text
               and violations.append(f"console on {message.page.url if message.page else '?'}: {message.text}"))


def settle(context) -> None:
    """Let the pages of a context deliver the events still queued (a violation is reported asynchronously)."""
    for page in context.pages:
        try:
            page.evaluate("() => new Promise(resolve => setTimeout(resolve, 50))")
        except Exception:  # a page that is closing or navigating has nothing more to say
            pass


class PageMaker:
    """``new_page(phone=True, locale="fi")`` opens a page in a fresh browser context.

    Every violation of the Content-Security-Policy in its pages lands in ``csp_violations``; the test
    fails if any remains at its end."""

    def __init__(self, chromium, base_url: str):
        self.chromium, self.base_url = chromium, base_url
        self.contexts = []
        self.csp_violations: list[str] = []

    def __call__(self, phone: bool = False, locale: str = "fi"):
        options = {"locale": locale, "base_url": self.base_url}
        if phone:
            options.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        context = self.chromium.new_context(**options)
        context.set_default_timeout(10_000)
        watch_csp(context, self.csp_violations)
        self.contexts.append(context)
        return context.new_page()

    def check_csp(self) -> None:
        for context in self.contexts:
            settle(context)
        if self.csp_violations:
            pytest.fail("Content-Security-Policy violations:\n" + "\n".join(self.csp_violations), pytrace=False)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def new_page(chromium, live_server):
    maker = PageMaker(chromium, live_server)
    try:
        yield maker
        maker.check_csp()
    finally:
        maker.close()


def page_login(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait for the front page (or the next page)."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")


# --- a local S3 server (moto's server mode over HTTP) -------------------------------------

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """A local S3 server (moto's server mode) on 127.0.0.1 with dummy credentials in the environment."""
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def make_s3_storage(endpoint: str, prefix: str = "evidence", bucket: str | None = None):
    from audit_app.evidence.s3 import S3Storage

    bucket = bucket or f"bucket-{uuid.uuid4().hex[:12]}"
    storage = S3Storage(bucket=bucket, prefix=prefix, region="us-east-1", endpoint_url=endpoint)
    try:
        storage.client.create_bucket(Bucket=bucket)
    except storage.client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return storage


@pytest.fixture
def empty_storage(app):
    """The app (and its local store) lives for the session: the test starts and ends with no photo objects."""
    from audit_app.evidence.storage import get_storage

    def wipe():
        with app.app_context():
            storage = get_storage()
            for key in list(storage.keys("visits/")):
                storage.delete(key)

    wipe()
    yield
    wipe()
