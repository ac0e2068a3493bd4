"""Both languages stay complete, and the language follows the user, then the browser."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "bin" / "i18n.py")
i18n_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(i18n_tool)


def test_finnish_catalogue_is_complete():
    problems = i18n_tool.missing_finnish()
    assert not problems, "untranslated or fuzzy Finnish messages (run bin/i18n.py):\n" + "\n".join(problems)


def test_check_finds_an_untranslated_string():
    from babel.messages.catalog import Catalog

    probe = Catalog()
    probe.add("A probe string nobody translated", locations=[("audit_app/core/probe.py", 1)])
    problems = i18n_tool.missing_finnish([*i18n_tool.extract().values(), probe])
    assert any("A probe string nobody translated" in p for p in problems)


def test_language_from_accept_language_then_default(app):
    client = app.test_client()
    fi = client.get("/login").get_data(as_text=True)
    assert "Kirjaudu sisään" in fi  # Finnish by default
    en = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "Sign in" in en and 'lang="en"' in en


def test_user_setting_wins_over_browser(world, login_as, app):
    b = login_as("evaluator")
    response = b.post("/account", {"language": "en"})
    assert response.status_code == 302
    page = b.get("/account", headers={"Accept-Language": "fi"}).get_data(as_text=True)
    assert "Your account" in page
    b.post("/account", {"language": "fi"})
    page = b.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Oma tili" in page


def test_anonymous_language_switch(browser):
    response = browser.post("/language", {"language": "en", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert "Sign in" in browser.get("/login").get_data(as_text=True)


def test_error_pages_in_both_languages(app):
    client = app.test_client()
    assert "Sivua ei löydy" in client.get("/no-such-page").get_data(as_text=True)
    page = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
