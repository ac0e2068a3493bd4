"""Photo evidence in a real browser: the evaluator attaches photos on a phone, the QA reviewer sees them."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from audit_app.evidence.models import Photo
from audit_app.extensions import db
from audit_app.visits.models import Visit

from . import factories
from .conftest import page_login
from .helpers import wait_for


def camera_photo(size=(3200, 2400)) -> bytes:
    """A photo as a phone camera makes it: large, so the browser scales it down before upload."""
    image = Image.new("RGB", size, (40, 120, 200))
    for x in range(0, size[0], 200):
        image.paste((240, 200, 40), (x, 0, x + 60, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def photos_of(app, visit_id) -> list[Photo]:
    with app.app_context():
        db.session.remove()
        rows = db.session.execute(select(Photo).where(Photo.visit_id == visit_id).order_by(Photo.id)).scalars().all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_evaluator_attaches_photos_on_a_phone_and_the_reviewer_sees_them(app, world, new_page):
    with app.app_context():
        evaluator = db.session.merge(world.evaluator)
        evaluator.language = "en"
        version = factories.make_version()
        visit = factories.make_visit(db.session.merge(world.client_a), evaluator, version, status="in_progress")
        db.session.commit()
        vid = visit.id
        q5 = next(q.id for q in version.questions() if q.key == "q5")

    page = new_page(phone=True)
    page_login(page, "eva@t.example")
    page.goto(f"/visits/{vid}/form?section=2")
    page.wait_for_selector("#sq-form[data-ready=true]")
    widget = page.locator(f".sq-question[data-question-id='{q5}'] [data-evidence-widget]")
    file_input = widget.locator("input.ev-file")
    assert file_input.get_attribute("capture") == "environment"

    file_input.set_input_files({"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": camera_photo()})
    widget.locator(".ev-item .ev-status", has_text="Uploaded").wait_for()
    page.wait_for_function(
        f"() => [...document.querySelectorAll(\".sq-question[data-question-id='{q5}'] .ev-item img\")]"
        ".some(img => img.complete && img.naturalWidth > 0)")
    stored = wait_for(lambda: photos_of(app, vid))
    assert len(stored) == 1 and stored[0].question_id == q5
    # scaled down in the browser before upload: about 2,500 px on the long edge, not the camera's 3,200
    assert max(stored[0].width, stored[0].height) <= 2600

    # a caption is saved as it is typed
    caption = widget.locator("input.ev-caption").first
    caption.fill("Screen visible from the queue")
    caption.press("Tab")
    assert wait_for(lambda: photos_of(app, vid)[0].caption == "Screen visible from the queue")

    # a failed upload keeps the photo queued and retries once the network is back
    page.context.set_offline(True)
    file_input.set_input_files({"name": "IMG_0002.jpg", "mimeType": "image/jpeg", "buffer": camera_photo((1200, 900))})
    widget.locator(".ev-item .ev-status", has_text="Offline").wait_for()
    assert len(photos_of(app, vid)) == 1
    page.context.set_offline(False)
    assert wait_for(lambda: len(photos_of(app, vid)) == 2, timeout=20)
    widget.locator(".ev-item").nth(1).locator(".ev-status", has_text="Uploaded").wait_for()

    # the QA reviewer sees both photos with the caption on the review screen
    with app.app_context():
        db.session.get(Visit, vid).status = "submitted"
        db.session.commit()
    reviewer = new_page()
    page_login(reviewer, "admin@t.example")
    reviewer.goto(f"/admin/visits/{vid}/review")
    reviewer.wait_for_function(
        "() => [...document.querySelectorAll('img')].filter(img => img.src.includes('/photos/')"
        " && img.complete && img.naturalWidth > 0).length >= 2")
    assert "Screen visible from the queue" in reviewer.content()
