"""Sign-in, the throttle, passwords, and the admin's client and user pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from audit_app.accounts.models import Client, LoginThrottle, User
from audit_app.extensions import db

from .conftest import CHEAP_PASSWORD_HASH, PASSWORD, Browser

ROOT = Path(__file__).resolve().parent.parent


def test_sign_in_and_out(world, browser):
    response = browser.login("EVA@t.example")  # case-insensitive email
    assert response.status_code == 302
    assert "Eva Evaluator" in browser.get("/").get_data(as_text=True)
    response = browser.post("/logout")
    assert response.status_code == 302
    assert browser.get("/account").status_code == 302


def test_wrong_password_is_a_clear_message(world, browser):
    response = browser.login("eva@t.example", "wrong-password")
    assert response.status_code == 401
    assert "Sähköpostiosoite tai salasana ei ole oikein." in response.get_data(as_text=True)


def test_empty_and_malformed_sign_in(world, browser):
    response = browser.post("/login", {"email": "", "password": ""}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    response = browser.post("/login", {"email": "not-an-email", "password": "x" * 5000})
    assert response.status_code == 400


def test_login_without_csrf_is_refused(world, app):
    b = Browser(app)
    response = b.post("/login", {"email": "eva@t.example", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert b.get("/account").status_code == 302  # not signed in


def test_failed_logins_are_throttled_in_the_database(world, app, browser):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        browser.login("eva@t.example", "wrong-password")
    response = browser.login("eva@t.example")  # even the right password is refused now
    assert response.status_code == 429
    assert "Liian monta epäonnistunutta kirjautumisyritystä" in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(LoginThrottle, "email:eva@t.example")
        assert row is not None and row.locked_until is not None
        # another worker sees the same lock: the state lives in the database
        row.locked_until = row.first_failure_at  # expire the lock
        db.session.commit()
    assert browser.login("eva@t.example").status_code == 302


def test_deactivated_user_cannot_sign_in_and_is_signed_out(world, app, login_as):
    b = login_as("evaluator")
    with app.app_context():
        db.session.get(User, world.ids["evaluator"]).active = False
        db.session.commit()
    assert b.get("/account").status_code == 302  # the session no longer counts
    assert Browser(app).login("eva@t.example").status_code == 401


def test_session_cookie_flags(world, app, browser):
    response = browser.login("eva@t.example")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_admin_creates_user_with_temporary_password(world, login_as, app):
    admin = login_as("admin")
    response = admin.post(
        "/admin/users/new",
        {"email": "New@T.example", "name": "New Person", "role": "client", "client_id": world.ids["client_a"],
         "language": "en", "active": "y", "password": "temporary-pass-1"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@t.example"))
        assert user.must_change_password and user.client_id == world.ids["client_a"]
    newcomer = Browser(app)
    response = newcomer.login("new@t.example", "temporary-pass-1")
    assert response.headers["Location"].endswith("/account/password")
    assert newcomer.get("/").headers["Location"].endswith("/account/password")  # forced
    response = newcomer.post(
        "/account/password",
        {"current_password": "temporary-pass-1", "new_password": "my-own-password", "confirm": "my-own-password"},
    )
    assert response.status_code == 302
    assert newcomer.get("/").status_code == 200


def test_user_form_bad_input(world, login_as):
    admin = login_as("admin")
    base = {"email": "x@t.example", "name": "X", "role": "evaluator", "client_id": 0, "language": "fi",
            "password": "long-enough-pass"}
    cases = [
        ({"email": "eva@T.EXAMPLE"}, "Tällä sähköpostiosoitteella on jo käyttäjä."),
        ({"email": "nonsense"}, "Anna kelvollinen sähköpostiosoite."),
        ({"name": ""}, "Tämä kenttä on pakollinen."),
        ({"name": "n" * 500}, "Enintään 120 merkkiä."),
        ({"password": "short"}, "Salasanan pituuden on oltava"),
        ({"role": "client", "client_id": 0}, "Asiakaskäyttäjän on kuuluttava asiakkaaseen."),
        ({"role": "superuser"}, "Not a valid choice"),
        ({"client_id": "abc"}, ""),
        ({"client_id": 99999, "role": "client"}, ""),
    ]
    for change, message in cases:
        response = admin.post("/admin/users/new", {**base, **change})
        assert response.status_code == 400, (change, response.status_code)
        if message and message != "Not a valid choice":
            assert message in response.get_data(as_text=True), change


def test_admin_cannot_deactivate_self(world, login_as):
    admin = login_as("admin")
    response = admin.post(
        f"/admin/users/{world.ids['admin']}",
        {"email": "admin@t.example", "name": "Admin", "role": "admin", "client_id": 0, "language": "fi"},
    )
    assert response.status_code == 400


def test_client_pages(world, login_as, app):
    admin = login_as("admin")
    assert admin.post("/admin/clients/new", {"name": "Client a"}).status_code == 400  # duplicate, any case
    assert admin.post("/admin/clients/new", {"name": ""}).status_code == 400
    assert admin.post("/admin/clients/new", {"name": "Client C"}).status_code == 302
    response = admin.post(f"/admin/clients/{world.ids['client_b']}", {"name": "Client B"})  # active unticked
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Client, world.ids["client_b"]).active is False
    assert Browser(app).login("client@b.example").status_code == 401  # its users can no longer sign in
    assert admin.get("/admin/clients/999999").status_code == 404


def test_change_password_errors(world, login_as):
    b = login_as("evaluator")
    wrong = b.post("/account/password", {"current_password": "nope", "new_password": "abcdefghijk", "confirm": "abcdefghijk"})
    assert wrong.status_code == 400 and "Nykyinen salasana ei ole oikein." in wrong.get_data(as_text=True)
    mismatch = b.post("/account/password", {"current_password": PASSWORD, "new_password": "abcdefghijk", "confirm": "x"})
    assert mismatch.status_code == 400 and "Salasanat eivät täsmää." in mismatch.get_data(as_text=True)


def test_open_redirect_is_refused(world, browser):
    response = browser.post("/login?next=https://evil.example/", {"email": "eva@t.example", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_passwords_are_hashed_with_scrypt(app, monkeypatch):
    """The one test on the real KDF: the test app hashes cheaply, a normally configured app with scrypt."""
    from audit_app import create_app
    from audit_app.accounts import operations

    monkeypatch.delenv("PASSWORD_HASH_METHOD", raising=False)
    normal = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    assert normal.config["PASSWORD_HASH_METHOD"] == "scrypt"
    with normal.app_context():
        operations.create_user(email="kdf@t.example", name="Kdf", role="evaluator", password=PASSWORD,
                               must_change_password=False)
        db.session.commit()
        db.session.expire_all()
        user = db.session.scalar(select(User).where(User.email == "kdf@t.example"))
        assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
        assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")
    browser = Browser(normal)
    assert browser.login("kdf@t.example", "wrong-password").status_code == 401
    assert browser.login("kdf@t.example").status_code == 302


def test_password_hash_method_is_scrypt_unless_configured(monkeypatch):
    from audit_app.config import ConfigError, load_config

    monkeypatch.delenv("PASSWORD_HASH_METHOD", raising=False)
    assert load_config()["PASSWORD_HASH_METHOD"] == "scrypt"
    monkeypatch.setenv("PASSWORD_HASH_METHOD", CHEAP_PASSWORD_HASH)
    assert load_config()["PASSWORD_HASH_METHOD"] == CHEAP_PASSWORD_HASH
    for bad in ("md5", "plain", "pbkdf2:nosuchhash:1", "scrypt:1"):
        monkeypatch.setenv("PASSWORD_HASH_METHOD", bad)
        with pytest.raises(ConfigError, match="PASSWORD_HASH_METHOD"):
            load_config()


def _flask(*args, env_extra=None, stdin=None):
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120,
    )


def test_cli_create_user_and_demo(app, tmp_path):
    env = {"AUDIT_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "", "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH}
    assert _flask("db", "upgrade", env_extra=env).returncode == 0
    result = _flask("users", "create", "--email", "cli@t.example", "--name", "Cli", "--role", "admin",
                    "--password-stdin", env_extra=env, stdin="a-long-password\n")
    assert result.returncode == 0, result.stderr
    first = _flask("demo", env_extra=env)
    second = _flask("demo", env_extra=env)  # idempotent
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert "admin@demo.example" in second.stdout and "client@bank.demo.example" in second.stdout
    assert (tmp_path / "secret_key").exists()


def test_configuration_errors_are_one_clear_line(tmp_path):
    env = {"AUDIT_INSTANCE_PATH": str(tmp_path)}
    bad = _flask("routes", env_extra={**env, "DATABASE_URL": "not a url"})
    assert bad.returncode != 0 and "Configuration error: DATABASE_URL is not a valid database URL" in bad.stderr
    assert "Traceback" not in bad.stderr
    down = _flask("routes", env_extra={**env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert down.returncode != 0 and "Configuration error: cannot reach the database" in down.stderr
    assert "Traceback" not in down.stderr
