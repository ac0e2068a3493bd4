"""Demo data: answers for the visits planned by ``visits/demo.py``, moved along the status machine.

Each planned visit (``ctx["demo_visit_plan"]``) gets plausible answers for its channel: mostly
good when its quality is high, with failures, the odd critical failure, N/A where a situation
did not arise, and comments in the evaluator's language. Approved, submitted and returned visits
get their scores from ``compute_and_store_scores`` (the scoring engine) and an audit trail, dated
on the day of the visit. Only visits still untouched (assigned, without answers) are changed, so
a second run does nothing. Flushes only.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from ..core.models import db, utcnow
from ..scoring import Answer as ScoringAnswer
from ..scoring import visibility
from ..visits import operations as visit_ops
from ..visits.models import Visit
from . import operations
from .models import Answer

#: questions whose situation often does not arise: the chance of N/A
SITUATIONAL = {
    "callback_time_stated": 0.7, "callback_kept": 0.7, "complaint_empathy": 0.7, "complaint_rights_told": 0.75,
    "promises_kept": 0.3, "identity_verified_before_disclosure": 0.25, "ivr_fitting_option": 0.05,
}
#: optional questions: the chance they are answered at all
OPTIONAL = {"appointment_availability": 0.5, "personal_touch": 0.8, "defining_moment": 0.6,
            "one_thing_to_change": 0.5}
#: critical questions fail rarely, even at a poor service point
CRITICAL_FAIL_SHARE = 0.3

#: realistic numbers: (good low, good high, bad low, bad high, decimals)
NUMBERS = {
    "phone_queue_minutes": (0.3, 2.0, 3.0, 26.0, 1),
    "ivr_steps": (1, 2, 3, 6, 0),
    "in_person_wait_minutes": (0.0, 2.0, 3.0, 22.0, 1),
    "chat_wait_minutes": (0.2, 1.0, 1.5, 12.0, 1),
    "email_response_hours": (0.5, 4.0, 5.0, 60.0, 1),
    "social_response_hours": (0.2, 2.0, 3.0, 40.0, 1),
}

#: comments on answers that went badly: (Finnish, English)
FAIL_COMMENTS = {
    "phone_queue_minutes": [("Jonotusmusiikki katkesi kahdesti, eikä jonon pituudesta kerrottu.",
                             "The hold music cut out twice and the queue length was never announced.")],
    "ivr_steps": [("Valikossa ei ollut vaihtoehtoa asialleni, jouduin arvaamaan.",
                   "The menu had no option for my matter; I had to guess.")],
    "in_person_wait_minutes": [("Vain yksi palvelupiste auki, vaikka jonossa oli kahdeksan asiakasta.",
                                "Only one desk open although eight customers were queueing.")],
    "chat_wait_minutes": [("Chatbot ohjasi ensin kolme kertaa usein kysyttyihin kysymyksiin.",
                           "The chatbot sent me to the FAQ three times before a person answered.")],
    "email_response_hours": [("Vastaus tuli vasta toisena päivänä ja oli vakiovastaus.",
                              "The reply came only on the second day and was a template.")],
    "social_response_hours": [("Viestiin vastattiin vasta seuraavana iltana.",
                               "The message was answered only the next evening.")],
    "resolved_in_one_contact": [("Minua pyydettiin soittamaan uudelleen huomenna.",
                                 "I was asked to call again tomorrow.")],
    "repeated_information": [("Jouduin kertomaan asiani uudelleen, kun minut siirrettiin toiselle.",
                              "I had to explain my matter again after being transferred.")],
    "identification_proportionate": [("Yleiseen kysymykseen vaadittiin verkkopankkitunnukset.",
                                      "Online-bank credentials were required for a general question.")],
    "visible_clutter": [("Siivouskärry oli käytävällä koko käynnin ajan.",
                         "A cleaning trolley stood in the corridor for the whole visit.")],
    "active_listening": [("Virkailija katsoi puhelintaan kesken kaiken.",
                          "The clerk kept looking at their phone while I spoke.")],
    "respectful_equal_treatment": [("Minulle puhuttiin kuin lapselle.", "I was spoken to like a child.")],
    "product_knowledge": [("Neuvoja ei tiennyt ehtoja ja antoi väärän tiedon.",
                           "The adviser did not know the terms and gave wrong information.")],
    "next_steps_clear": [("En tiedä, tuleeko asiaan vielä vastaus.", "I do not know whether I will hear back.")],
    "plain_language": [("Paljon ammattisanastoa, jota ei selitetty.", "A lot of jargon that was not explained.")],
    "prices_terms_open": [("Palvelumaksu mainittiin vasta lopuksi.", "The service fee was mentioned only at the end.")],
    "promises_kept": [("Luvattua vahvistusviestiä ei tullut.", "The promised confirmation never arrived.")],
    "identity_verified_before_disclosure": [
        ("Tilin tiedot kerrottiin pelkän nimen perusteella.", "Account details were given on my name alone.")],
    "personal_data_overheard": [("Henkilötunnukseni luettiin ääneen jonon kuullen.",
                                 "My personal ID was read out loud within earshot of the queue.")],
    "sensitive_data_insecure_channel": [("Minua pyydettiin lähettämään henkilötunnus tavallisella sähköpostilla.",
                                         "I was asked to send my personal ID by ordinary email.")],
    "customer_data_visible": [("Edellisen asiakkaan tiedot näkyivät näytöllä.",
                               "The previous customer's details were visible on the screen.")],
}
GENERIC_FAIL = [("Tässä on parannettavaa.", "Room for improvement here.")]
GOOD_COMMENTS = [("Erinomainen, lämmin palvelu.", "Excellent, warm service."),
                 ("Nopea ja asiantunteva.", "Quick and knowledgeable."),
                 ("Virkailija kysyi tarkentavia kysymyksiä ja ratkaisi asian.",
                  "The clerk asked good questions and solved the matter.")]
DEFINING_MOMENTS = [
    ("Virkailija saattoi minut ovelle ja toivotti hyvää päivänjatkoa nimeltä.",
     "The clerk walked me to the door and wished me a good day by name."),
    ("Kun kerroin kiireestä, asia hoidettiin heti ilman jonotusta.",
     "When I said I was in a hurry, the matter was handled at once."),
    ("Jonotin pitkään, ja lopulta minut ohjattiin verkkosivuille.",
     "I queued for a long time and was finally sent to the website."),
    ("Käsin kirjoitettu kiitoskortti huoneessa.", "A handwritten thank-you card in the room."),
]
CHANGES = [
    ("Enemmän henkilökuntaa ruuhka-aikaan.", "More staff at busy times."),
    ("Selkeämpi puhelinvalikko.", "A clearer phone menu."),
    ("Hinnat näkyviin heti alussa.", "Show the prices at the start."),
    ("Vastaus sähköpostiin samana päivänä.", "Answer emails on the same day."),
]
RETURN_COMMENTS = [("Jonotusaika puuttuu kommentista: kirjaa myös, kuinka monta asiakasta oli edelläsi.",
                    "Please add to the comment how many customers were ahead of you in the queue.")]


def _lang(pair: tuple[str, str], evaluator) -> str:
    return pair[1] if getattr(evaluator, "language", "fi") == "en" else pair[0]


def _number(rng: random.Random, key: str, good: bool) -> float:
    low_g, high_g, low_b, high_b, decimals = NUMBERS.get(key, (0, 5, 6, 30, 0))
    low, high = (low_g, high_g) if good else (low_b, high_b)
    value = low + (high - low) * (rng.random() ** 1.6)  # more small values than large
    return int(round(value)) if decimals == 0 else round(value, decimals)


def _answer(rng: random.Random, question, quality: float, evaluator, critical_ok: bool):
    """(value, na, comment) for one question, or None to leave it unanswered."""
    key, kind, config = question.key, question.kind, question.config or {}
    if key in OPTIONAL and rng.random() > OPTIONAL[key]:
        return None
    if question.allow_na and rng.random() < SITUATIONAL.get(key, 0.0):
        return (None, True, "")
    good = critical_ok if question.critical else rng.random() < quality
    if question.follow_up in ("photo", "both"):
        good = True  # demo evaluators carry no camera: a failure here would need a photo
    comment = ""
    if kind == "yes_no":
        good_answer = config.get("good_answer", "yes") == "yes"
        value = good_answer if good else not good_answer
    elif kind == "scale":
        low, high = int(config.get("min", 1)), int(config.get("max", 5))
        level = quality + rng.gauss(0, 0.18) if good else rng.uniform(0, 0.45)
        value = max(low, min(high, low + round((high - low) * level)))
        good = value > low + (high - low) / 2
    elif kind == "choice":
        options = sorted(config.get("options", []), key=lambda o: -float(o.get("fraction", 0)))
        if good or len(options) < 2:
            value = options[0]["key"]
        else:
            value = rng.choice(options[1:])["key"]
    elif kind == "multi":
        options = [o for o in config.get("options", []) if float(o.get("fraction", 0)) > 0]
        zero = [o for o in config.get("options", []) if float(o.get("fraction", 0)) == 0]
        if not good and zero:
            value = [zero[0]["key"]]
        else:
            value = [o["key"] for o in options if rng.random() < (0.8 if good else 0.3)] or [options[0]["key"]]
    elif kind == "time":
        value = f"{rng.randint(9, 16):02d}:{rng.choice((0, 10, 15, 20, 30, 40, 45, 50)):02d}"
    elif kind == "date":
        return None
    elif kind == "number":
        value = _number(rng, key, good)
    elif kind == "text":
        pool = DEFINING_MOMENTS if key == "defining_moment" else CHANGES
        return (_lang(rng.choice(pool), evaluator), False, "")
    else:
        return None
    if not good and (rng.random() < 0.65 or question.follow_up in ("comment", "both")):
        comment = _lang(rng.choice(FAIL_COMMENTS.get(key, GENERIC_FAIL)), evaluator)
    elif good and rng.random() < 0.06:
        comment = _lang(rng.choice(GOOD_COMMENTS), evaluator)
    return (value, False, comment)


def _fill(visit: Visit, rng: random.Random, quality: float, at: datetime, *, first_section_only: bool = False) -> None:
    version = visit.checklist_version
    critical_ok = rng.random() > (1 - quality) * CRITICAL_FAIL_SHARE
    sections = version.sections[:1] if first_section_only else version.sections
    evaluator = visit.evaluator
    spec, so_far = version.to_spec(), {}
    for section in sections:
        for question in section.questions:
            if question.kind == "photo" or not visibility(spec, so_far, visit.channel).question_shown(question.key):
                continue  # another channel, or hidden by the answers so far (the form logic)
            given = _answer(rng, question, quality, evaluator, critical_ok)
            if given is None:
                continue
            value, na, comment = given
            so_far[question.key] = ScoringAnswer(value=value, na=na, comment=comment)
            operations.validate_answer(visit, question, value, na)  # the demo answers real questions
            at += timedelta(seconds=rng.randint(20, 150))
            db.session.add(Answer(visit_id=visit.id, question_id=question.id, value=value, na=na, comment=comment,
                                  answered_at=at, updated_at=at, updated_by_id=visit.evaluator_id))
    db.session.flush()


def _move(visit: Visit, to: str, user, at: datetime, action: str = "status", comment: str = "") -> None:
    """A status change through the status machine, dated ``at`` with its audit-trail entry."""
    visit_ops.transition(visit, to, user=user, action=action, comment=comment, at=at)


def _started_at(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 16), rng.randint(0, 59)))


def _realise(entry: dict, admin, rng: random.Random, now: datetime) -> None:
    visit: Visit = entry["visit"]
    outcome = entry["outcome"]
    if outcome == "assigned":
        return
    day = entry["visited_on"]
    started = min(_started_at(rng, day), now - timedelta(hours=1))
    _move(visit, "in_progress", visit.evaluator, started)
    quality = entry.get("quality", 0.8)
    _fill(visit, rng, quality, started, first_section_only=outcome == "in_progress")
    if outcome == "in_progress":
        return
    missing = [q.key for q, what in operations.missing_for_submission(visit) if what == "answer"]
    if missing:  # a bug in the generator, not in the data
        raise RuntimeError(f"demo visit {visit.id} misses answers to {missing}")
    operations.compute_and_store_scores(visit)
    submitted = min(started + timedelta(minutes=rng.randint(25, 70)), now - timedelta(minutes=30))
    _move(visit, "submitted", visit.evaluator, submitted)
    visit.scored_at = submitted
    if outcome == "submitted":
        return
    reviewed = min(submitted + timedelta(hours=rng.randint(3, 60)), now - timedelta(minutes=10))
    if outcome == "returned":
        comment = _lang(rng.choice(RETURN_COMMENTS), visit.evaluator)
        _move(visit, "returned", admin, reviewed, action="returned", comment=comment)
        visit.return_comment = comment
    elif outcome == "approved":
        _move(visit, "approved", admin, reviewed, action="approved")


def load(ctx: dict) -> None:
    plan = ctx.get("demo_visit_plan") or []
    admin = ctx.get("admin")
    now = utcnow()
    rng = random.Random("demo-submissions")
    for entry in plan:
        visit: Visit = entry["visit"]
        untouched = visit.status == "assigned" and not db.session.scalar(
            select(func.count()).select_from(Answer).where(Answer.visit_id == visit.id))
        if untouched:
            _realise(entry, admin, rng, now)
    db.session.flush()
