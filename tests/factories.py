"""Builders for tests: domain objects (call them inside an app context; they flush) and the bytes
of uploaded images."""

from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import date, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from audit_app.checklists import operations as checklist_ops
from audit_app.checklists.models import ChecklistVersion, Question
from audit_app.core.models import utcnow
from audit_app.extensions import db
from audit_app.submissions.models import Answer
from audit_app.submissions.operations import compute_and_store_scores
from audit_app.visits.models import ClientChannel, Location, Visit

STARTER = Path(__file__).resolve().parent.parent / "audit_app" / "checklists" / "starter" / "customer_experience.json"


def starter_doc() -> dict:
    return json.loads(STARTER.read_text(encoding="utf-8"))


def small_doc() -> dict:
    """The worked example of DESIGN.md section 4, plus a text question."""
    t = lambda en, fi=None: {"en": en, "fi": fi or en + " (fi)"}  # noqa: E731
    return {
        "format": "outside-eye-checklist/1",
        "title": t("Small checklist", "Pieni tarkistuslista"),
        "critical_scope": "section",
        "sections": [
            {"key": "a", "title": t("Reaching us", "Tavoitettavuus"), "dimension": "reachability", "weight": 2,
             "guidance": t("Call the number."),
             "questions": [
                 {"key": "q1", "kind": "yes_no", "prompt": t("Was the number easy to find?"), "guidance": t("Look."),
                  "weight": 1},
                 {"key": "q2", "kind": "number", "prompt": t("Minutes in the queue?"), "guidance": t("Time it."),
                  "weight": 2, "unit": "minutes",
                  "bands": [{"upto": 2, "fraction": 1.0}, {"upto": 5, "fraction": 0.5}, {"upto": 10, "fraction": 0.25}],
                  "above": 0.0},
                 {"key": "q3", "kind": "scale", "prompt": t("How friendly was the greeting?"), "guidance": t("Rate."),
                  "min": 1, "max": 5, "allow_na": True},
             ]},
            {"key": "b", "title": t("Privacy", "Yksityisyys"), "dimension": "privacy", "weight": 1,
             "guidance": t("Watch."),
             "questions": [
                 {"key": "q4", "kind": "yes_no", "prompt": t("Was your identity verified?"), "guidance": t("Ask."),
                  "critical": True},
                 {"key": "q5", "kind": "yes_no", "prompt": t("Were screens hidden from others?"),
                  "guidance": t("Look around."), "photo": "allowed"},
                 {"key": "q6", "kind": "text", "prompt": t("Anything else?"), "guidance": t("Write."),
                  "required": False},
             ]},
        ],
    }


def make_version(doc: dict | None = None, publish: bool = True) -> ChecklistVersion:
    version = checklist_ops.build_version(doc or small_doc())
    if publish:
        checklist_ops.publish(version)
    return version


def make_location(client, name="Central branch", city="Helsinki", region="Uusimaa") -> Location:
    location = Location(client_id=client.id, name=name, address="Main street 1", city=city, region=region)
    db.session.add(location)
    db.session.flush()
    return location


def make_client_channel(client, channel="phone", label="Customer service", contact="010 123 4567") -> ClientChannel:
    row = ClientChannel(client_id=client.id, channel=channel, label=label, contact=contact)
    db.session.add(row)
    db.session.flush()
    return row


def make_visit(client, evaluator, version, channel="phone", location=None, status="assigned",
               scenario="Call as a customer who wants to move a payment date.", visited_on=None) -> Visit:
    today = date.today()
    visit = Visit(
        client_id=client.id, evaluator_id=evaluator.id, checklist_version_id=version.id, channel=channel,
        location_id=location.id if location else None, due_from=today, due_to=today + timedelta(days=7),
        scenario=scenario, status=status,
    )
    if status != "assigned":
        visit.started_at = utcnow()
        visit.visited_on = visited_on or today
    db.session.add(visit)
    db.session.flush()
    return visit


def answer(visit: Visit, key: str, value=None, na: bool = False, comment: str = "") -> Answer:
    question = db.session.scalar(
        select(Question).where(Question.version_id == visit.checklist_version_id, Question.key == key)
    )
    row = db.session.scalar(select(Answer).where(Answer.visit_id == visit.id, Answer.question_id == question.id))
    if row is None:
        row = Answer(visit_id=visit.id, question_id=question.id)
        db.session.add(row)
    row.value, row.na, row.comment = value, na, comment
    db.session.flush()
    return row


WORKED_EXAMPLE = {"q1": True, "q2": 7, "q3": None, "q4": False, "q5": True}


def make_scored_visit(client, evaluator, version=None, answers=None, status="approved", **kw) -> Visit:
    """A visit of the small checklist answered (default: the worked example) and scored."""
    version = version or make_version()
    visit = make_visit(client, evaluator, version, status=status, **kw)
    for key, value in (answers or WORKED_EXAMPLE).items():
        answer(visit, key, value, na=value is None)
    compute_and_store_scores(visit)
    now = utcnow()
    if status in ("submitted", "approved", "returned"):
        visit.submitted_at = now
    if status == "approved":
        visit.approved_at = now
    db.session.flush()
    return visit


# --- photos -----------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def jpeg_bytes(size=(64, 48), color=(200, 80, 40), **save) -> bytes:
    return encode(Image.new("RGB", size, color), "JPEG", **save)


def rotated_jpeg_with_gps() -> bytes:
    """80×40 pixels, left half red, right half blue; EXIF orientation 6 (rotate 90° clockwise), GPS."""
    image = Image.new("RGB", (80, 40), (255, 0, 0))
    image.paste((0, 0, 255), (40, 0, 80, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x0110] = "Phone X"
    exif.get_ifd(0x8769)[36867] = "2025:03:14 09:26:53"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (60.0, 10.0, 0.0), 3: "E", 4: (24.0, 56.0, 0.0)})
    data = encode(image, "JPEG", exif=exif, quality=95)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the GPS is really in there
    return data


def png_header_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` × ``height`` pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def make_photo(visit, user, question_id=None, caption="A photo", data=None, client_uid=None):
    """A stored photo of ``visit`` (which must be editable), through the real operation."""
    from flask import current_app

    from audit_app.evidence import operations
    from audit_app.evidence.storage import get_storage

    photo, _ = operations.add_photo(
        visit, data=data or jpeg_bytes(), storage=get_storage(), user=user, question_id=question_id,
        caption=caption, client_uid=client_uid, max_bytes=current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
    )
    return photo


def logic_doc() -> dict:
    """A checklist with form logic: a condition on a number (at least), an unscored gate driving a
    section, a multi-select, date and time questions, follow-ups on failure."""
    t = lambda en, fi=None: {"en": en, "fi": fi or en + " (fi)"}  # noqa: E731
    return {
        "format": "outside-eye-checklist/1",
        "title": t("Logic checklist", "Logiikkalista"),
        "critical_scope": "section",
        "sections": [
            {"key": "reach", "title": t("Reaching us", "Tavoitettavuus"), "dimension": "reachability", "weight": 1,
             "guidance": t("Call."),
             "questions": [
                 {"key": "queue", "kind": "number", "prompt": t("Minutes in the queue?"), "unit": "minutes",
                  "bands": [{"upto": 5, "fraction": 1.0}, {"upto": 15, "fraction": 0.5}], "above": 0.0},
                 {"key": "callback", "kind": "yes_no", "prompt": t("Were you offered a callback?"),
                  "condition": {"question": "queue", "at_least": 10}},
                 {"key": "ways", "kind": "multi", "prompt": t("Which ways of contact did you find?"),
                  "required": False,
                  "options": [{"key": "phone", "label": t("Phone", "Puhelin"), "fraction": 0.5},
                              {"key": "chat", "label": t("Chat"), "fraction": 0.5},
                              {"key": "none", "label": t("None", "Ei mitään"), "fraction": 0.0}]},
                 {"key": "gate", "kind": "yes_no", "prompt": t("Did the matter involve personal data?"),
                  "unscored": True},
                 {"key": "day", "kind": "date", "prompt": t("Date of the visit?"), "required": False},
                 {"key": "clock", "kind": "time", "prompt": t("Time of the visit?"), "required": False},
                 {"key": "premises", "kind": "yes_no", "prompt": t("Were the premises tidy?"), "photo": "allowed",
                  "follow_up": "both"},
             ]},
            {"key": "privacy", "title": t("Privacy", "Yksityisyys"), "dimension": "privacy", "weight": 1,
             "condition": {"question": "gate", "any_of": ["yes"]},
             "questions": [
                 {"key": "identity", "kind": "yes_no", "prompt": t("Was your identity checked?"), "critical": True},
                 {"key": "screens", "kind": "yes_no", "prompt": t("Were screens hidden?"),
                  "follow_up": "comment"},
             ]},
            {"key": "empathy", "title": t("Empathy", "Empatia"), "dimension": "empathy", "weight": 1,
             "questions": [
                 {"key": "listening", "kind": "scale", "prompt": t("How well did they listen?")},
             ]},
        ],
    }
