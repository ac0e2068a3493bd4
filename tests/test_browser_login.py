"""The sign-in page in a real browser, at a phone's width."""

from __future__ import annotations

from .conftest import page_login


def test_sign_in_on_a_phone(world, new_page):
    page = new_page(phone=True)
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Kirjaudu sisään"
    # nothing overflows sideways at 360 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page_login(page, "eva@t.example", "wrong-password-1")
    assert "Sähköpostiosoite tai salasana ei ole oikein." in page.content()
    page_login(page, "eva@t.example")
    assert "Hei, Eva Evaluator" in page.content()


def test_language_switch_in_the_browser(world, new_page):
    page = new_page(locale="en-GB")
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Sign in"
    page.click("text=Suomeksi")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Kirjaudu sisään"
