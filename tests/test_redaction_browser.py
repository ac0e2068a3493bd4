"""The review screen's editor of blurred areas, in a real browser (Debian's Chromium).

An admin sees the detected faces and plates drawn over the photo, removes a false box, draws a
missed area with the mouse (desktop) or a finger (a phone with a touch screen: real touch input
through the DevTools protocol, which the browser turns into pointer events of type touch), the
blurred versions are made again, each change is in the visit's audit trail, and once approved the
client fetches a version where the drawn area is blurred and the removed box is not. In both
languages.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from flask import url_for
from PIL import Image
from sqlalchemy import select

from audit_app.evidence import jobs, redaction
from audit_app.evidence.models import Photo
from audit_app.evidence.storage import get_storage
from audit_app.extensions import db
from audit_app.submissions.models import AuditEvent
from audit_app.visits.models import Visit
from bench.redaction_bench import plate_image

from . import factories
from .conftest import page_login

SIZE = (1200, 900)
FACE = (142, 129, 92, 92)  # the astronaut's face, x, y, w, h in the photo's pixels
PLATE = (760, 640, 300, 70)
FALSE = (900, 120, 160, 160)  # a "face" the detector did not find: plain noise, removed by the admin
DRAWN = (300, 600, 200, 150)  # a missed area the admin draws (noise: nothing is detected there)
SHOTS = Path("/tmp/redaction-shots")


def known_photo() -> bytes:
    face = Image.open(Path(__file__).parent / "data" / "astronaut.jpg").convert("RGB")
    rng = np.random.default_rng(3)
    canvas = Image.fromarray(rng.normal(128, 30, (SIZE[1], SIZE[0], 3)).clip(0, 255).astype("uint8"))
    canvas.paste(face, (60, 60))
    canvas.paste(plate_image("ABC-123", PLATE[2]), PLATE[:2])
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def url(app, endpoint, **kw):
    with app.test_request_context():
        return url_for(endpoint, **kw)


def photo_row(app, photo_id) -> Photo:
    with app.app_context():
        db.session.remove()
        photo = db.session.get(Photo, photo_id)
        db.session.expunge(photo)
        return photo


def submitted_visit_with_photo(app, world, login_as, language: str, redact=True) -> tuple[int, int]:
    """A submitted visit with one photo whose regions are the face, the plate and a false box;
    redacted, or (``redact=False``) waiting for its versions to be made again."""
    with app.app_context():
        db.session.merge(world.admin).language = language
        db.session.merge(world.client_user).language = language
        visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                     factories.make_version(), status="in_progress")
        db.session.commit()
        visit_id = visit.id
    response = login_as("evaluator").post(
        url(app, "evidence.upload", visit_id=visit_id), {"file": (io.BytesIO(known_photo()), "p.jpg")},
        content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert response.status_code == 201, response.data
    photo_id = response.get_json()["id"]
    jobs.drain()
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        assert sorted(r["kind"] for r in photo.regions) == ["face", "plate"]
        # the detector "finds" a face where there is none: the admin will remove it
        photo.regions = [*photo.regions, redaction.new_region("face", *FALSE, "auto")]
        photo.redaction_state = "pending"
        photo.redaction_rev += 1
        db.session.get(Visit, visit_id).status = "submitted"
        db.session.commit()
        if redact:
            assert jobs.redact(photo_id) == "done"
    return visit_id, photo_id


def stage_box(page, photo_id):
    return page.locator(f"#photo-{photo_id} [data-rd-layer]").bounding_box()


def to_screen(box, region):
    """The screen points of a region's top-left and bottom-right corners."""
    sx, sy = box["width"] / SIZE[0], box["height"] / SIZE[1]
    x, y, w, h = region
    return (box["x"] + x * sx, box["y"] + y * sy), (box["x"] + (x + w) * sx, box["y"] + (y + h) * sy)


def wait_done(page, photo_id, regions: int) -> None:
    """Poll (the editor does) until the versions are made again and ``regions`` boxes are drawn."""
    page.wait_for_function(
        "([id, n]) => { const root = document.getElementById('photo-' + id);"
        " return root.dataset.state === 'done' && root.querySelectorAll('.rd-box').length === n"
        " && root.querySelectorAll('[data-rd-remove]').length === n; }",
        arg=[photo_id, regions], timeout=30_000)


def drawn_box_positions(page, photo_id):
    return page.evaluate(
        "(id) => [...document.querySelectorAll('#photo-' + id + ' .rd-box')].map(el => {"
        " const r = el.getBoundingClientRect(); return [r.x, r.y, r.width, r.height, el.className]; })", photo_id)


def assert_region_near(regions, kind, source, target, tolerance=6):
    found = [r for r in regions if r["kind"] == kind and r["source"] == source]
    assert len(found) == 1, regions
    r = found[0]
    for got, want in zip((r["x"], r["y"], r["w"], r["h"]), target, strict=True):
        assert abs(got - want) <= tolerance, (r, target)


def region_pixels(image: Image.Image, region, scale: float) -> np.ndarray:
    x, y, w, h = (round(v * scale) for v in region)
    return np.asarray(image, dtype=np.float32)[y:y + h, x:x + w]


def check_editor_and_trail(app, page, visit_id, photo_id, language):
    photo = photo_row(app, photo_id)
    kinds = sorted((r["kind"], r["source"]) for r in photo.regions)
    assert kinds == [("face", "auto"), ("other", "admin"), ("plate", "auto")], kinds
    assert_region_near(photo.regions, "other", "admin", DRAWN)
    assert not any(abs(r["x"] - FALSE[0]) < 4 and abs(r["y"] - FALSE[1]) < 4 for r in photo.regions)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.visit_id == visit_id, AuditEvent.action == "redaction").order_by(AuditEvent.id)).all()
        assert [(e.field, bool(e.old_value), bool(e.new_value)) for e in events] == [
            (f"photo:{photo_id}", True, False), (f"photo:{photo_id}", False, True)]
    page.reload()
    trail = page.locator("#audit-trail")
    label = {"fi": "Kuvan sumennetut alueet muutettu", "en": "Blurred areas of a photo changed"}[language]
    assert trail.locator("tr", has_text=label).count() == 2, trail.inner_text()
    removed, added = {"fi": ("Poistettu: Kasvot", "Lisätty: Muu alue"), "en": ("Removed: Face", "Added: Other area")}[language]
    assert removed in trail.inner_text() and added in trail.inner_text()


def approve_and_check_client_sees_the_drawn_area_blurred(app, new_page, page, visit_id, photo_id, language):
    approve = {"fi": "Hyväksy", "en": "Approve"}[language]
    page.get_by_role("button", name=approve, exact=True).click()
    page.wait_for_load_state("networkidle")
    with app.app_context():
        assert db.session.get(Visit, visit_id).status == "approved"
    photo = photo_row(app, photo_id)
    with app.app_context():
        plain = Image.open(io.BytesIO(get_storage().get(photo.report_key))).convert("RGB")

    client = new_page(locale=language)
    page_login(client, "client@a.example")
    for size in ("report", "thumb"):
        response = client.request.get(url(app, "evidence.photo", photo_id=photo_id, size=size))
        assert response.status == 200, size
        seen = Image.open(io.BytesIO(response.body())).convert("RGB")
        if size == "thumb":
            plain_size = plain.resize(seen.size, Image.LANCZOS)
        else:
            plain_size = plain
        scale = seen.width / SIZE[0]
        for region in (DRAWN, FACE, PLATE):  # blurred: the detail inside is gone
            before = region_pixels(plain_size, region, scale).var(axis=(0, 1)).mean()
            after = region_pixels(seen, region, scale).var(axis=(0, 1)).mean()
            assert after < before / 5, (size, region, before, after)
        if size == "report":  # the removed false box is the photo as it is again
            diff = np.abs(region_pixels(seen, FALSE, scale) - region_pixels(plain, FALSE, scale))
            assert diff.mean() < 2.5
    assert client.request.get(url(app, "evidence.photo", photo_id=photo_id, size="original")).status == 404


@pytest.mark.parametrize("language", ["fi", "en"])
def test_admin_corrects_the_blurred_areas_with_the_mouse(app, world, login_as, new_page, language):
    visit_id, photo_id = submitted_visit_with_photo(app, world, login_as, language, redact=False)
    page = new_page(locale=language)
    page.set_viewport_size({"width": 1280, "height": 900})
    page_login(page, "admin@t.example")
    page.goto(f"/admin/visits/{visit_id}/review")
    # beside Approve: why approval waits, linking to the photo
    notice = page.locator("#redaction-waiting")
    expected = {"fi": "1 kuva on vielä sumentamatta", "en": "1 photo is not blurred yet"}[language]
    assert expected in notice.inner_text()
    assert notice.locator("a").get_attribute("href") == f"#photo-{photo_id}"
    page.screenshot(path=str(SHOTS / f"redaction-waiting-{language}.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 700})
    jobs.submit(app, photo_id)  # the job runs now; the page polls and the notice goes once it is done
    notice.wait_for(state="hidden", timeout=30_000)
    root = page.locator(f"#photo-{photo_id}")
    root.locator(".rd-editor summary").click()
    page.wait_for_function("(id) => { const img = document.querySelector('#photo-' + id + ' .rd-image');"
                           " return img.complete && img.naturalWidth > 0; }", arg=photo_id)
    wait_done(page, photo_id, 3)

    # the detected regions are drawn where they are on the photo
    box = stage_box(page, photo_id)
    assert box["width"] > 300
    shown = drawn_box_positions(page, photo_id)
    for region in photo_row(app, photo_id).regions:
        (rx, ry), (rx1, ry1) = to_screen(box, (region["x"], region["y"], region["w"], region["h"]))
        assert any(abs(x - rx) < 2 and abs(y - ry) < 2 and abs(w - (rx1 - rx)) < 2 and abs(h - (ry1 - ry)) < 2
                   and f"rd-box-{region['kind']}" in cls for x, y, w, h, cls in shown), (region, shown)
    SHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SHOTS / f"redaction-desktop-{language}.png"))

    # remove the false one
    photo = photo_row(app, photo_id)
    false_id = next(r["id"] for r in photo.regions if abs(r["x"] - FALSE[0]) < 4)
    root.locator(f"li[data-region-id='{false_id}'] [data-rd-remove]").click()
    wait_done(page, photo_id, 2)

    # draw a missed one with the mouse
    box = stage_box(page, photo_id)
    (x0, y0), (x1, y1) = to_screen(box, DRAWN)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()
    wait_done(page, photo_id, 3)
    root.screenshot(path=str(SHOTS / f"redaction-desktop-drawn-{language}.png"))

    check_editor_and_trail(app, page, visit_id, photo_id, language)
    page.screenshot(path=str(SHOTS / f"redaction-review-desktop-{language}.png"), full_page=True)
    approve_and_check_client_sees_the_drawn_area_blurred(app, new_page, page, visit_id, photo_id, language)


def touch_drag(page, start, end, steps=6) -> None:
    """A finger drag: real touch input through the DevTools protocol."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i / steps
        y = start[1] + (end[1] - start[1]) * i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.mark.parametrize("language", ["fi", "en"])
def test_admin_corrects_the_blurred_areas_by_touch_on_a_phone(app, world, login_as, new_page, language):
    visit_id, photo_id = submitted_visit_with_photo(app, world, login_as, language)
    page = new_page(phone=True, locale=language)
    page_login(page, "admin@t.example")
    page.goto(f"/admin/visits/{visit_id}/review")
    root = page.locator(f"#photo-{photo_id}")
    root.locator(".rd-editor summary").tap()
    page.wait_for_function("(id) => { const img = document.querySelector('#photo-' + id + ' .rd-image');"
                           " return img.complete && img.naturalWidth > 0; }", arg=photo_id)
    wait_done(page, photo_id, 3)
    root.scroll_into_view_if_needed()
    box = stage_box(page, photo_id)
    # the photo fits the phone's width and is not a postage stamp
    assert 250 <= box["width"] <= 360 and box["x"] >= 0, box
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    root.screenshot(path=str(SHOTS / f"redaction-phone-{language}.png"))

    photo = photo_row(app, photo_id)
    false_id = next(r["id"] for r in photo.regions if abs(r["x"] - FALSE[0]) < 4)
    root.locator(f"li[data-region-id='{false_id}'] [data-rd-remove]").tap()
    wait_done(page, photo_id, 2)

    # on the photo a finger draws a box
    page.locator(f"#photo-{photo_id} .rd-image").scroll_into_view_if_needed()
    box = stage_box(page, photo_id)
    start, end = to_screen(box, DRAWN)
    touch_drag(page, start, end)
    wait_done(page, photo_id, 3)
    root.screenshot(path=str(SHOTS / f"redaction-phone-drawn-{language}.png"))

    check_editor_and_trail(app, page, visit_id, photo_id, language)
    approve_and_check_client_sees_the_drawn_area_blurred(app, new_page, page, visit_id, photo_id, language)
