"""The checklist preview in a real browser at a phone's width: big targets, nothing sideways."""

from __future__ import annotations

from audit_app.extensions import db
from tests.factories import make_version, starter_doc

from .conftest import page_login


def test_preview_on_a_phone(app, world, new_page):
    with app.app_context():
        version = make_version(starter_doc(), publish=True)
        db.session.commit()
        vid = version.id
    page = new_page(phone=True)
    page_login(page, "admin@t.example")
    for channel in ("phone", "in_person"):
        page.goto(f"/admin/checklists/versions/{vid}/preview?channel={channel}")
        yes_no = page.locator("label.cl-yesno:visible")  # the form logic hides some until answered
        assert yes_no.count() >= 4
        for i in range(yes_no.count()):
            box = yes_no.nth(i).bounding_box()
            assert box["height"] >= 48, box
        scale_buttons = page.locator("[data-kind=scale] label.btn")
        assert scale_buttons.first.bounding_box()["height"] >= 48
        # nothing overflows sideways at 360 px
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator("[data-stopwatch]").count() >= 1
    # tapping a big button selects it (the radio behind it is checked)
    first = page.locator("[data-kind=yes_no]").first
    first.locator("label.cl-yesno").first.click()
    assert first.locator("input[value=yes]").is_checked()
