"""The browser tests fail on a Content-Security-Policy violation: the ``new_page`` fixture sees them."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Error as PlaywrightError


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_violation_fails_the_browser_test(new_page):
    page = new_page(locale="en")
    page.goto("/login")
    assert page.locator("h1").count() == 1
    try:
        page.add_script_tag(content="document.body.dataset.injected = 'yes'")
    except PlaywrightError:
        pass  # Playwright may report the refused script itself
    page.evaluate("() => document.querySelector('h1').setAttribute('style', 'color: red')")
    page.evaluate("() => 0")  # a round trip, so that the events above have been delivered

    assert page.evaluate("() => document.body.dataset.injected") is None, "an inline script ran"
    assert page.evaluate("() => getComputedStyle(document.querySelector('h1')).color") != "rgb(255, 0, 0)"
    violations = new_page.csp_violations
    assert wait_for(lambda: any("script-src" in v for v in violations) and any("style-src" in v for v in violations)), violations
    assert any("Content Security Policy" in v for v in violations), violations  # the console says so too

    with pytest.raises(pytest.fail.Exception, match="Content-Security-Policy violations"):
        new_page.check_csp()  # what the fixture does when the test ends
    violations.clear()  # this test's violations were made on purpose


def test_pages_of_every_role_load_without_a_violation(world, new_page):
    """A clean sign-in and a few pages: the fixture's check passes (no false alarm)."""
    from .conftest import page_login

    page = new_page(phone=True)
    page_login(page, world.emails["client"])
    for url in ("/dashboard", "/account", "/reports/generated"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    new_page.check_csp()
