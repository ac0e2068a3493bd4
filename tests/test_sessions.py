"""Sessions live on the server: signing out, a password change, an admin's reset and a deactivation
end them, so a copied cookie stops working; the account page lists the signed-in devices."""

from __future__ import annotations

from sqlalchemy import func, select

from audit_app.accounts.models import User, UserSession
from audit_app.accounts.queries import device_label
from audit_app.extensions import db
from tests.conftest import PASSWORD, Browser

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Mobile Safari/537.36")


def _cookie(browser: Browser) -> str:
    return browser.client.get_cookie("session").value


def _with_cookie(app, value: str) -> Browser:
    """Another browser that was handed a copy of a session cookie."""
    thief = Browser(app)
    thief.client.set_cookie("session", value)
    return thief


def _signed_in(browser: Browser) -> bool:
    return browser.get("/account").status_code == 200


def _sessions_of(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id))


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, world, login_as):
    browser = login_as("client")
    copied = _cookie(browser)
    assert _signed_in(_with_cookie(app, copied))
    assert browser.post("/logout").status_code == 302
    thief = _with_cookie(app, copied)
    response = thief.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert thief.get("/dashboard").status_code == 302
    assert _sessions_of(app, world.ids["client_user"]) == 0


def test_a_password_change_signs_out_the_other_devices_but_not_this_one(app, world, login_as):
    first, second = login_as("evaluator"), login_as("evaluator")
    assert _signed_in(first) and _signed_in(second)
    response = first.post("/account/password", {"current_password": PASSWORD, "new_password": "a-new-password-1",
                                                 "confirm": "a-new-password-1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert _signed_in(first)
    assert not _signed_in(second)
    assert _sessions_of(app, world.ids["evaluator"]) == 1


def test_an_admins_reset_and_a_deactivation_end_every_session(app, world, login_as):
    evaluator = login_as("evaluator")
    client = login_as("client")
    admin = login_as("admin")
    response = admin.post(f"/admin/users/{world.ids['evaluator']}/password",
                          {"password": "temporary-pass-1", "confirm": "temporary-pass-1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert not _signed_in(evaluator)
    with app.app_context():
        user = db.session.get(User, world.ids["client_user"])
        data = {"email": user.email, "name": user.name, "role": "client", "client_id": str(user.client_id),
                "language": user.language}  # "active" left out: unchecked
    response = admin.post(f"/admin/users/{world.ids['client_user']}", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert not _signed_in(client)
    assert _sessions_of(app, world.ids["client_user"]) == 0
    assert _signed_in(admin)


def test_the_account_page_lists_devices_and_signs_them_out(app, world):
    laptop, phone = Browser(app), Browser(app)
    laptop.client.environ_base["HTTP_USER_AGENT"] = FIREFOX_WINDOWS
    phone.client.environ_base["HTTP_USER_AGENT"] = CHROME_ANDROID
    assert laptop.login(world.emails["admin"]).status_code == 302
    assert phone.login(world.emails["admin"]).status_code == 302
    html = laptop.get("/account").get_data(as_text=True)
    assert "Firefox · Windows" in html and "Chrome · Android" in html
    with app.app_context():
        devices = {s.user_agent: s.id for s in db.session.scalars(select(UserSession))}
    # one device of one's own: signed out; someone else's device: 404, and it stays
    other = Browser(app)
    assert other.login(world.emails["evaluator"]).status_code == 302
    with app.app_context():
        evaluators_device = db.session.scalar(
            select(UserSession.id).where(UserSession.user_id == world.ids["evaluator"]))
    assert laptop.post(f"/account/sessions/{evaluators_device}/end").status_code == 404
    assert _signed_in(other)
    assert laptop.post(f"/account/sessions/{devices[CHROME_ANDROID]}/end").status_code == 302
    assert not _signed_in(phone) and _signed_in(laptop)
    # without the CSRF token nothing happens
    assert laptop.post("/account/sessions/end", csrf=False).status_code == 400
    assert _signed_in(laptop)
    # everywhere: this device too
    second = Browser(app)
    assert second.login(world.emails["admin"]).status_code == 302
    assert laptop.post("/account/sessions/end").status_code == 302
    assert not _signed_in(laptop) and not _signed_in(second)
    assert _sessions_of(app, world.ids["admin"]) == 0


def test_a_session_from_a_tampered_or_unknown_token_is_refused(app, world, login_as):
    browser = login_as("admin")
    with browser.client.session_transaction() as session:
        session["sid"] = "not-a-real-token"
    assert not _signed_in(browser)


def test_device_labels():
    assert device_label(FIREFOX_WINDOWS) == "Firefox · Windows"
    assert device_label(CHROME_ANDROID) == "Chrome · Android"
    assert device_label("") == ""
    assert device_label("curl/8.5") == ""


def test_an_unknown_address_costs_a_password_check_too(app, world, monkeypatch):
    """Sign-in with an address nobody has still checks a password hash, so the time taken does not
    tell whether an account exists."""
    from audit_app.accounts import models

    checked = []
    real = models.check_password_hash
    monkeypatch.setattr(models, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    response = Browser(app).login("nobody@nowhere.example")
    assert response.status_code == 401
    assert len(checked) == 1
