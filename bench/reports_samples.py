"""Sample PDFs of the four report scopes with realistic data, to look at (issue 6).

    .venv/bin/python bench/reports_samples.py /tmp/report-samples           # English
    .venv/bin/python bench/reports_samples.py /tmp/report-samples --language fi
    pdftoppm -png -r 60 /tmp/report-samples/visit.pdf /tmp/report-samples/visit   # then look at the pages

Builds a throw-away SQLite database and Storage in a temporary folder: a client with a logo,
eight branches, the starter checklist, about 90 approved visits over six months on four
channels with comments and evidence photos; then renders visit, location, channel and client
summary PDFs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMENTS = [
    "Two staff members were chatting at the counter and did not look up for almost four minutes.",
    "The clerk asked for my personal identity code out loud while three other customers stood behind me.",
    "I was told someone would call me back by 14:00; the call came the next morning.",
    "The answer about the fee was different from the price list on the website.",
    "Boxes of brochures and a laundry cart were left in the waiting area all day.",
    "I had to explain my matter again from the start after being transferred.",
    "The chat agent asked me to send a copy of my passport by ordinary email.",
    "Nobody told me what would happen next or when I would hear back.",
    "The phone menu had no option for my matter, so I pressed 0 and waited again.",
    "The staff member could not answer the question about the loyalty terms and did not find out.",
]
CAPTIONS = ["Queue by the counter", "Waiting area at 11:40", "Screen visible from the queue",
            "Brochure boxes by the entrance", "Notice board with an outdated price list", "Service desk"]


def photo(i: int, size=(1200, 900)) -> bytes:
    """A photo-like JPEG: a gradient room with a counter, a window and some objects."""
    from PIL import Image, ImageDraw, ImageFilter

    rnd = random.Random(i)
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    top, bottom = (rnd.randint(150, 220), rnd.randint(150, 210), rnd.randint(140, 200)), (90, 80, 70)
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    draw.rectangle([w * 0.08, h * 0.1, w * 0.38, h * 0.45], fill=(200, 225, 240), outline=(60, 60, 60), width=8)
    draw.rectangle([0, h * 0.62, w, h * 0.78], fill=(120, 85, 60))
    for _ in range(9):
        x, y = rnd.randint(0, w - 150), rnd.randint(int(h * 0.45), h - 150)
        draw.rectangle([x, y, x + rnd.randint(60, 200), y + rnd.randint(60, 180)],
                       fill=(rnd.randint(40, 230), rnd.randint(40, 230), rnd.randint(40, 230)))
    for _ in range(3):
        x = rnd.randint(100, w - 200)
        draw.ellipse([x, h * 0.3, x + 90, h * 0.42], fill=(230, 190, 160))
        draw.rectangle([x - 20, h * 0.42, x + 110, h * 0.75], fill=(rnd.randint(20, 90), 60, rnd.randint(80, 160)))
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()


def logo() -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGBA", (600, 160), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle([0, 10, 140, 150], radius=28, fill=(0, 104, 87))
    draw.ellipse([35, 45, 105, 115], fill=(255, 255, 255))
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 64)
    except OSError:
        font = ImageFont.load_default()
    draw.text((165, 40), "Aurora", fill=(0, 104, 87), font=font)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def value_for(q, rnd: random.Random, quality: float):
    """A plausible answer: good with probability ``quality``."""
    kind, cfg = q.kind, q.config or {}
    good = rnd.random() < quality
    if kind == "yes_no":
        want = cfg.get("good_answer", "yes") == "yes"
        return want if good else (not want)
    if kind == "scale":
        lo, hi = cfg.get("min", 1), cfg.get("max", 5)
        return rnd.randint(hi - 1, hi) if good else rnd.randint(lo, max(lo, hi - 2))
    if kind == "choice":
        options = cfg.get("options", [])
        ranked = sorted(options, key=lambda o: -o["fraction"])
        return (ranked[0] if good else rnd.choice(ranked[1:] or ranked))["key"]
    if kind == "number":
        bands = cfg.get("bands", [])
        return bands[0]["upto"] if good else bands[-1]["upto"] + rnd.randint(1, 15)
    if kind == "text":
        return "The staff member remembered my name from the previous visit." if good else ""
    return None


def build(app, language: str) -> dict:
    from audit_app.accounts import operations as accounts
    from audit_app.checklists import operations as checklists
    from audit_app.checklists.models import Question
    from audit_app.evidence.models import Photo
    from audit_app.evidence.storage import get_storage
    from audit_app.extensions import db
    from audit_app.reports.operations import save_logo
    from audit_app.submissions.models import Answer
    from audit_app.submissions.operations import compute_and_store_scores
    from audit_app.visits.models import Location, Visit

    rnd = random.Random(6)
    with app.app_context():
        storage = get_storage()
        client = accounts.create_client("Aurora Savings Bank")
        evaluator = accounts.create_user(email="eva@example.com", name="Zebulon Evaluator", role="evaluator",
                                         password="sample-password-123", must_change_password=False)
        doc = json.loads((ROOT / "audit_app/checklists/starter/customer_experience.json").read_text("utf-8"))
        version = checklists.build_version(doc)
        checklists.publish(version)
        save_logo(client.id, logo(), storage=storage)
        cities = [("Kamppi", "Helsinki", "Uusimaa"), ("Itäkeskus", "Helsinki", "Uusimaa"),
                  ("Tapiola", "Espoo", "Uusimaa"), ("Hervanta", "Tampere", "Pirkanmaa"),
                  ("Keskusta", "Tampere", "Pirkanmaa"), ("Kupittaa", "Turku", "Varsinais-Suomi"),
                  ("Linnanmaa", "Oulu", "Pohjois-Pohjanmaa"), ("Keskusta", "Jyväskylä", "Keski-Suomi")]
        locations = []
        for name, city, region in cities:
            loc = Location(client_id=client.id, name=f"{city} {name}", address="Main street 1", city=city,
                           region=region)
            db.session.add(loc)
            locations.append(loc)
        db.session.flush()
        questions = db.session.query(Question).filter_by(version_id=version.id).order_by(Question.id).all()
        today = date.today()
        photo_n = 0
        visits = []
        for n in range(90):
            loc = locations[n % len(locations)]
            channel = ("in_person", "in_person", "phone", "chat", "email")[n % 5]
            quality = 0.55 + 0.4 * ((n % len(locations)) / len(locations)) + 0.1 * (n / 90)
            visited = today - timedelta(days=(n * 2) % 180 + 1)
            visit = Visit(client_id=client.id, evaluator_id=evaluator.id, checklist_version_id=version.id,
                          channel=channel, location_id=loc.id, due_from=visited, due_to=visited, status="approved",
                          visited_on=visited, approved_at=datetime.now(), scenario="")
            db.session.add(visit)
            db.session.flush()
            for q in questions:
                if not q.applies_to(channel):
                    continue
                value = value_for(q, rnd, quality if n else 0.6)
                if value is None and q.kind != "text":
                    continue
                db.session.add(Answer(visit_id=visit.id, question_id=q.id, value=value))
            db.session.flush()
            compute_and_store_scores(visit)
            failed = db.session.query(Answer).filter_by(visit_id=visit.id, failed=True).all()
            for k, a in enumerate(failed):
                a.comment = COMMENTS[(n + k) % len(COMMENTS)]
                if (n == 0 or n % 7 == 0) and k < (6 if n == 0 else 2):
                    for _ in range(2 if n == 0 and k < 3 else 1):
                        key = f"visits/{visit.id}/p{photo_n}/report.jpg"
                        data = photo(photo_n)
                        storage.put(key, data, "image/jpeg")
                        db.session.add(Photo(visit_id=visit.id, question_id=a.question_id, client_uid=f"p{photo_n}",
                                             caption=CAPTIONS[photo_n % len(CAPTIONS)], storage_key=key,
                                             report_key=key, thumb_key=key, content_type="image/jpeg",
                                             size_bytes=len(data), width=1200, height=900, sha256="0" * 64,
                                             captured_at=datetime(visited.year, visited.month, visited.day, 11,
                                                                  photo_n % 60)))
                        photo_n += 1
            visits.append(visit)
        db.session.commit()
        first = visits[0]
        return {"client": client.id, "visit": first.id, "location": first.location_id}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--language", default="en", choices=("en", "fi"))
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["AUDIT_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="report-samples-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    from flask_babel import force_locale
    from flask_migrate import upgrade

    from audit_app import create_app
    from audit_app.reports import operations
    from audit_app.reports.rendering import render_pdf

    app = create_app({"WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
    fx = build(app, args.language)
    end = date.today()
    start = end - timedelta(days=89)
    scopes = [("visit", str(fx["visit"])), ("location", str(fx["location"])), ("channel", "in_person"),
              ("client", "")]
    with app.test_request_context(), force_locale(args.language):
        for scope, ref in scopes:
            t0 = time.perf_counter()
            report = operations.build_report(scope, fx["client"], ref, start, end, args.language)
            pdf = render_pdf(report)
            (out / f"{scope}.pdf").write_bytes(pdf)
            print(f"{scope}: {out / (scope + '.pdf')} {len(pdf) // 1024} KiB in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
