"""Form logic through the app: the validator and the file format, the designer's forms, autosave
and submission, reports and exports, the starter checklist. The rules themselves are tested in
tests/test_scoring.py; the browser's side in tests/test_form_logic_browser.py."""

from __future__ import annotations

import copy
import io
import json

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from audit_app.checklists import fileformat
from audit_app.checklists.validation import validate_doc
from audit_app.extensions import db
from audit_app.scoring import DIMENSIONS
from audit_app.submissions.models import Answer
from audit_app.submissions.operations import compute_and_store_scores, missing_for_submission
from audit_app.visits.models import Visit

from . import factories
from .factories import logic_doc, small_doc

# --- the validator: every condition problem named at its place, in both languages --------------


def _q(doc, s, q):
    return doc["sections"][s]["questions"][q]


def _later(doc):
    _q(doc, 0, 0)["condition"] = {"question": "gate", "any_of": ["yes"]}


def _itself(doc):
    _q(doc, 0, 1)["condition"] = {"question": "callback", "any_of": ["yes"]}


def _cycle(doc):
    _q(doc, 0, 3)["condition"] = {"question": "premises", "any_of": ["yes"]}
    _q(doc, 0, 6)["condition"] = {"question": "gate", "any_of": ["yes"]}


def _on_date(doc):
    _q(doc, 0, 6)["condition"] = {"question": "day", "any_of": ["yes"]}


def _on_text(doc):
    doc["sections"][0]["questions"].insert(0, {"key": "note", "kind": "text", "prompt": {"en": "Note"},
                                               "required": False})
    _q(doc, 0, 2)["condition"] = {"question": "note", "any_of": ["x"]}


def _unknown_option(doc):
    _q(doc, 0, 6)["condition"] = {"question": "ways", "any_of": ["chat", "fax"]}


def _bound_on_yes_no(doc):
    _q(doc, 0, 6)["condition"] = {"question": "gate", "at_most": 1}


def _values_on_number(doc):
    _q(doc, 0, 1)["condition"] = {"question": "queue", "any_of": ["10"]}


def _multi_without_options(doc):
    _q(doc, 0, 2)["options"] = []


def _multi_fraction(doc):
    _q(doc, 0, 2)["options"][0]["fraction"] = 1.5


def _section_on_own_question(doc):
    doc["sections"][1]["condition"] = {"question": "identity", "any_of": ["yes"]}


def _follow_up_unscored(doc):
    _q(doc, 0, 3)["follow_up"] = "comment"


def _follow_up_photo_without_photos(doc):
    _q(doc, 1, 1)["follow_up"] = "photo"


def _unscored_critical(doc):
    _q(doc, 0, 3)["critical"] = True


def _unknown_question(doc):
    _q(doc, 0, 6)["condition"] = {"question": "nowhere", "any_of": ["yes"]}


INVALID = [
    (_later, "sections[0].questions[0].condition.question",
     "gate comes later: a condition can depend only on an earlier question",
     "gate tulee myöhemmin: ehto voi riippua vain aiemmasta kysymyksestä"),
    (_itself, "sections[0].questions[1].condition.question", "a question cannot depend on itself",
     "kysymys ei voi riippua itsestään"),
    (_cycle, "sections[0].questions[3].condition.question",
     "the conditions go round in a circle: gate → premises → gate",
     "ehdot kiertävät kehää: gate → premises → gate"),
    (_on_date, "sections[0].questions[6].condition.question",
     "a condition cannot depend on a text, photo, date or time question (day)",
     "ehto ei voi riippua teksti-, kuva-, päivämäärä- tai kellonaikakysymyksestä (day)"),
    (_on_text, "sections[0].questions[2].condition.question",
     "a condition cannot depend on a text, photo, date or time question (note)",
     "ehto ei voi riippua teksti-, kuva-, päivämäärä- tai kellonaikakysymyksestä (note)"),
    (_unknown_option, "sections[0].questions[6].condition.any_of[1]",
     "fax is not a value of ways: use one of phone, chat, none",
     "fax ei ole kysymyksen ways arvo: käytä jotakin näistä: phone, chat, none"),
    (_bound_on_yes_no, "sections[0].questions[6].condition.at_most",
     "a number bound needs a scale or number question; gate is answered with values: use any_of",
     "lukuraja sopii vain asteikko- tai lukukysymykseen; kysymykseen gate vastataan arvoilla: käytä any_of"),
    (_values_on_number, "sections[0].questions[1].condition.any_of",
     "queue is a scale or number question: use at_most or at_least",
     "queue on asteikko- tai lukukysymys: käytä at_most tai at_least"),
    (_multi_without_options, "sections[0].questions[2].options",
     "a multi-select question needs at least one option",
     "monivalintakysymyksessä pitää olla vähintään yksi vaihtoehto"),
    (_multi_fraction, "sections[0].questions[2].options[0].fraction",
     "a fraction must be between 0 and 1", "osuuden pitää olla välillä 0–1"),
    (_section_on_own_question, "sections[1].condition.question",
     "a section can depend only on a question of an earlier section, not on its own question identity",
     "osio voi riippua vain aiemman osion kysymyksestä, ei omasta kysymyksestään identity"),
    (_follow_up_unscored, "sections[0].questions[3].follow_up",
     "only a scored question can ask for more when its answer fails",
     "vain pisteytettävä kysymys voi pyytää lisää, kun vastaus ei täytä vaatimusta"),
    (_follow_up_photo_without_photos, "sections[1].questions[1].follow_up",
     "a photo on failure needs photos allowed on the question",
     "kuva hylätystä vastauksesta vaatii, että kysymykseen saa lisätä kuvia"),
    (_unscored_critical, "sections[0].questions[3].critical", "only a scored question can be critical",
     "vain pisteytettävä kysymys voi olla kriittinen"),
    (_unknown_question, "sections[0].questions[6].condition.question", "unknown question nowhere",
     "tuntematon kysymys nowhere"),
]


def test_the_logic_document_is_valid(app):
    with app.test_request_context():
        assert validate_doc(logic_doc(), DIMENSIONS) == []


@pytest.mark.parametrize("mutate,path,english,finnish", INVALID, ids=[c[0].__name__ for c in INVALID])
def test_validator_names_each_logic_problem_in_both_languages(app, mutate, path, english, finnish):
    doc = logic_doc()
    mutate(doc)
    with app.test_request_context():
        for language, message in (("en", english), ("fi", finnish)):
            with force_locale(language):
                problems = [str(p) for p in validate_doc(doc, DIMENSIONS)]
            assert f"{path}: {message}" in problems, problems


# --- the file format ------------------------------------------------------------------------------


def test_export_import_export_is_byte_identical_with_logic(app):
    with app.app_context():
        first = fileformat.dumps(fileformat.export_doc(fileformat.import_doc(logic_doc())))
        second = fileformat.dumps(fileformat.export_doc(fileformat.import_doc(json.loads(first))))
        assert first == second
        exported = json.loads(first)
        assert exported["sections"][1]["condition"] == {"question": "gate", "any_of": ["yes"]}
        gate = _q(exported, 0, 3)
        assert gate["unscored"] is True and "follow_up" not in gate
        assert _q(exported, 0, 6)["follow_up"] == "both"
        assert _q(exported, 0, 1)["condition"] == {"question": "queue", "at_least": 10}
        starter = fileformat.dumps(fileformat.export_doc(fileformat.import_doc(factories.starter_doc())))
        assert starter == fileformat.dumps(fileformat.export_doc(fileformat.import_doc(json.loads(starter))))
        assert starter == fileformat.dumps(factories.starter_doc())  # the starter file is as the export writes it


def test_an_older_file_imports_and_exports_without_the_new_fields(app):
    with app.app_context():
        doc = small_doc()
        exported = fileformat.export_doc(fileformat.import_doc(copy.deepcopy(doc)))
        text = fileformat.dumps(exported)
        for name in ('"condition"', '"unscored"', '"follow_up"'):
            assert name not in text
        assert fileformat.dumps(fileformat.export_doc(fileformat.import_doc(exported))) == text


@pytest.mark.parametrize("mutate,place", [(_cycle, "sections[0].questions[3].condition.question"),
                                          (_later, "sections[0].questions[0].condition.question")])
def test_import_of_a_cycle_or_a_forward_reference_is_refused_with_the_place(app, login_as, mutate, place):
    doc = logic_doc()
    mutate(doc)
    admin = login_as("admin")
    admin.post("/language", {"language": "en"})
    body = json.dumps(doc).encode()
    response = admin.post("/admin/checklists/import", {"file": (io.BytesIO(body), "logic.json")},
                          content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'data-path="{place}"' in page
    assert ("circle" in page) if mutate is _cycle else ("comes later" in page)
    with app.app_context():
        from audit_app.checklists import queries

        assert queries.find_by_title("Logic checklist") is None  # nothing imported


# --- the designer's forms -------------------------------------------------------------------------


def _draft(app):
    with app.app_context():
        version = factories.make_version(logic_doc(), publish=False)
        db.session.commit()
        return version.id, {q.key: q.id for q in version.questions()}, {s.key: s.id for s in version.sections}


def _question_form(question, **changes):
    data = {"kind": question["kind"], "key": question["key"], "prompt_en": question["prompt"]["en"],
            "prompt_fi": "", "guidance_en": "", "guidance_fi": "", "weight": "1", "required": "y",
            "photo": question.get("photo", "none"), "good_answer": "yes", "follow_up": "none"}
    data.update(changes)
    return data


def test_designer_offers_only_earlier_questions_and_their_real_values(app, login_as):
    version_id, questions, _ = _draft(app)
    admin = login_as("admin")
    page = admin.get(f"/admin/checklists/versions/{version_id}/questions/{questions['premises']}").get_data(
        as_text=True)
    picker = page.split('id="condition-picker"', 1)[1].split("</fieldset>", 1)[0]
    offered = [line.split('value="', 1)[1].split('"', 1)[0] for line in picker.split("<option")[2:]
               if 'value="' in line and "cond_question" not in line]
    assert [k for k in offered if k in questions] == ["queue", "callback", "ways", "gate"]  # no date/time, no later
    assert 'name="cond_any_ways" value="chat"' in picker and 'name="cond_op_queue"' in picker
    first = admin.get(f"/admin/checklists/versions/{version_id}/questions/{questions['queue']}").get_data(as_text=True)
    assert 'id="condition-none"' in first  # nothing earlier to depend on
    section = admin.get(f"/admin/checklists/versions/{version_id}/sections/new").get_data(as_text=True)
    assert 'value="screens"' in section and 'value="listening"' in section


def test_designer_saves_a_condition_unscored_and_follow_up(app, login_as):
    version_id, questions, _ = _draft(app)
    admin = login_as("admin")
    admin.post("/language", {"language": "en"})
    doc = _q(logic_doc(), 0, 6)
    url = f"/admin/checklists/versions/{version_id}/questions/{questions['premises']}"
    response = admin.post(url, _question_form(doc, cond_question="ways", cond_any_ways=["chat", "phone"],
                                              follow_up="comment", unscored=""))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        from audit_app.checklists.models import Question

        question = db.session.get(Question, questions["premises"])
        assert question.condition == {"question": "ways", "any_of": ["chat", "phone"]}
        assert question.follow_up == "comment" and not question.unscored
    # a photo follow-up allows photos on the question by itself
    response = admin.post(url, _question_form(doc, photo="none", follow_up="photo"))
    assert response.status_code == 302
    with app.app_context():
        question = db.session.get(Question, questions["premises"])
        assert question.photo == "allowed" and question.condition is None
    # a bound on a yes/no (posted by hand) and a value the question does not have are refused
    response = admin.post(url, _question_form(doc, cond_question="gate", cond_op_gate="at_most", cond_bound_gate="2"))
    assert response.status_code == 400
    assert "a number bound needs a scale or number question" in response.get_data(as_text=True)
    response = admin.post(url, _question_form(doc, cond_question="gate", cond_any_gate=["maybe"]))
    assert response.status_code == 400 and "maybe is not a value of gate" in response.get_data(as_text=True)
    response = admin.post(url, _question_form(doc, cond_question="listening", cond_op_listening="at_least",
                                              cond_bound_listening="3"))
    assert response.status_code == 400 and "listening comes later" in response.get_data(as_text=True)
    # a multi-select with options, a date and a time question
    new = f"/admin/checklists/versions/{version_id}/sections/{_draft_section(app, version_id, 'empathy')}/questions/new"
    response = admin.post(new, {**_question_form({"kind": "multi", "key": "m2", "prompt": {"en": "Pick"}}),
                                "opt_key_0": "a", "opt_label_0_en": "A", "opt_fraction_0": "0,5",
                                "opt_key_1": "b", "opt_label_1_en": "B", "opt_fraction_1": "1"})
    assert response.status_code == 302
    response = admin.post(new, _question_form({"kind": "multi", "key": "m3", "prompt": {"en": "Pick"}}))
    assert response.status_code == 400 and 'data-path="sections[2].questions[2].options"' in \
        response.get_data(as_text=True), __import__("re").findall(r'data-path="[^"]*"[^<]*', response.get_data(
            as_text=True))
    for kind in ("date", "time"):
        response = admin.post(new, {**_question_form({"kind": kind, "key": f"k_{kind}", "prompt": {"en": kind}}),
                                    "required": ""})
        assert response.status_code == 302
    # a section's condition
    section_url = f"/admin/checklists/versions/{version_id}/sections/{_draft_section(app, version_id, 'empathy')}"
    response = admin.post(section_url, {"key": "empathy", "title_en": "Empathy", "dimension": "empathy",
                                        "weight": "1", "cond_question": "queue", "cond_op_queue": "at_most",
                                        "cond_bound_queue": "30"})
    assert response.status_code == 302
    with app.app_context():
        from audit_app.checklists.models import ChecklistVersion

        version = db.session.get(ChecklistVersion, version_id)
        assert version.sections[2].condition == {"question": "queue", "at_most": 30}
        assert [q.kind for q in version.sections[2].questions][-3:] == ["multi", "date", "time"]
        assert fileformat.validate_doc(fileformat.export_doc(version), DIMENSIONS) == []


def _draft_section(app, version_id, key):
    with app.app_context():
        from audit_app.checklists.models import ChecklistVersion

        return next(s.id for s in db.session.get(ChecklistVersion, version_id).sections if s.key == key)


# --- autosave and submission ----------------------------------------------------------------------


@pytest.fixture
def logic_visit(app, world):
    with app.app_context():
        client = db.session.merge(world.client_a)
        eva = db.session.merge(world.evaluator)
        version = factories.make_version(logic_doc())
        visit = factories.make_visit(client, eva, version, status="in_progress")
        db.session.commit()
        return {"visit": visit.id, "q": {q.key: q.id for q in version.questions()}}


def _save(b, setup, key, value, **extra):
    payload = {"question_id": setup["q"][key], "value": value, "na": False, "comment": "", **extra}
    return b.post_json(f"/visits/{setup['visit']}/answers", payload)


def _stored(app, setup, key):
    with app.app_context():
        db.session.remove()
        row = db.session.scalar(select(Answer).where(Answer.visit_id == setup["visit"],
                                                     Answer.question_id == setup["q"][key]))
        return None if row is None else (row.value, row.comment)


@pytest.mark.parametrize("key,value,message", [
    ("ways", ["chat", "fax"], "The answer is not one of the options."),
    ("ways", ["chat", "chat"], "The same option was chosen twice."),
    ("ways", [], "Choose at least one option, or clear the answer."),
    ("ways", "chat", "The answer must be a list of the options."),
    ("day", "2025-02-30", "The answer must be a date, for example 2025-03-14."),
    ("day", "tomorrow", "The answer must be a date, for example 2025-03-14."),
    ("clock", "25:00", "The answer must be a time of day, for example 14:30."),
    ("clock", 930, "The answer must be a time of day, for example 14:30."),
])
def test_autosave_refuses_bad_multi_date_and_time_answers_and_keeps_what_was_saved(
        app, login_as, logic_visit, key, value, message):
    b = login_as("evaluator")
    b.post("/language", {"language": "en"})
    good = {"ways": ["phone", "chat"], "day": "2025-03-14", "clock": "09:30"}[key]
    assert _save(b, logic_visit, key, good).status_code == 200
    response = _save(b, logic_visit, key, value)
    assert response.status_code == 400
    assert response.get_json() == {"error": message, "code": "invalid"}
    assert _stored(app, logic_visit, key) == (good, "")
    b.post("/language", {"language": "fi"})
    assert _save(b, logic_visit, key, value).get_json()["error"] != message  # in Finnish


def test_submission_requires_only_shown_questions_and_follow_ups_naming_each(app, login_as, logic_visit):
    b = login_as("evaluator")
    b.post("/language", {"language": "en"})
    url = f"/visits/{logic_visit['visit']}/submit"
    # nothing answered: the shown required ones only (callback and the privacy section are hidden)
    page = b.post(url).get_data(as_text=True)
    for prompt in ("Minutes in the queue?", "Did the matter involve personal data?", "Were the premises tidy?",
                   "How well did they listen?"):
        assert prompt in page
    for hidden in ("Were you offered a callback?", "Was your identity checked?", "Were screens hidden?"):
        assert hidden not in page
    # a long queue shows the callback question; a yes at the gate the privacy section
    for key, value in (("queue", 20), ("gate", True), ("premises", False), ("listening", 4), ("identity", True),
                       ("screens", False)):
        assert _save(b, logic_visit, key, value).status_code == 200
    response = b.post(url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Were you offered a callback?" in page
    assert page.count("The answer fails: write a comment on why.") == 2  # premises and screens
    assert "The answer fails: add a photo of it." in page  # premises
    # the queue was short after all: the callback question is hidden again; comments given
    assert _save(b, logic_visit, "queue", 3).status_code == 200
    assert _save(b, logic_visit, "screens", False, comment="The screen faced the queue.").status_code == 200
    assert _save(b, logic_visit, "premises", False, comment="Boxes by the door.").status_code == 200
    with app.app_context():
        visit = db.session.get(Visit, logic_visit["visit"])
        assert [(q.key, what) for q, what in missing_for_submission(visit)] == [("premises", "failure_photo")]
        factories.make_photo(visit, visit.evaluator, question_id=logic_visit["q"]["premises"])
        db.session.commit()
    # the callback answer given earlier stays stored, not required and not scored
    assert _save(b, logic_visit, "queue", 20).status_code == 200
    assert _save(b, logic_visit, "callback", False).status_code == 200
    assert _save(b, logic_visit, "queue", 3).status_code == 200
    response = b.post(url)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        visit = db.session.get(Visit, logic_visit["visit"])
        assert visit.status == "submitted"
        assert _stored(app, logic_visit, "callback") == (False, "")
        questions = {q["key"]: q for s in visit.score_data["sections"] for q in s["questions"]}
        assert questions["callback"]["shown"] is False and questions["callback"]["fraction"] is None
        assert questions["gate"]["fraction"] is None  # unscored
        assert visit.score_data["failed"] == ["premises", "screens"]


def test_a_gate_answered_no_hides_the_section_from_score_report_and_export(app, login_as, world, logic_visit):
    with app.app_context():
        visit = db.session.get(Visit, logic_visit["visit"])
        for key, value in (("queue", 3), ("gate", False), ("premises", True), ("listening", 5),
                           ("identity", False), ("screens", False), ("ways", ["phone", "chat"]),
                           ("day", "2025-01-02"), ("clock", "09:30")):
            factories.answer(visit, key, value)
        score = compute_and_store_scores(visit)
        assert missing_for_submission(visit) == []
        assert score.overall == 100.0 and not score.critical_fail  # identity failed but hidden
        assert [s.score for s in score.sections] == [100.0, None, 100.0]
        visit.status, visit.visited_on = "approved", visit.visited_on or __import__("datetime").date.today()
        visit.approved_at = visit.submitted_at = visit.started_at
        db.session.commit()
        from audit_app.reports.queries import exports, report_data
        from audit_app.reports.queries.base import Filters

        report = report_data.visit_report(visit.id, "en")
        keys = [q["key"] for s in report.sections for q in s["questions"]]
        assert "identity" not in keys and "screens" not in keys and "queue" in keys
        assert report.failed_items == []
        notes = {n["key"]: n["text"] for s in report.sections for n in s.get("notes", [])}
        assert notes.get("ways") == "Phone, Chat" or "ways" in keys
        with app.test_request_context(), force_locale("en"):
            today = __import__("datetime").date.today()
            header, rows = exports.export_answers(Filters(visit.client_id, today.replace(day=1) - __import__(
                "datetime").timedelta(days=40), today), "en")
        shown = {r[5]: r[-1] for r in rows}
        assert header[-1] == "Shown"
        assert shown["identity"] == "No" and shown["queue"] == "Yes"
        answers = {r[5]: r[7] for r in rows}
        assert answers["ways"] == "Phone, Chat"
        assert answers["day"] == "Jan 2, 2025" and answers["clock"] == "9:30\u202fAM" or answers["clock"] == "9:30 AM"


def test_the_pdf_of_a_visit_with_hidden_questions_leaves_them_out(app, login_as, world, logic_visit):
    from datetime import date, timedelta

    from pypdf import PdfReader

    with app.app_context():
        visit = db.session.get(Visit, logic_visit["visit"])
        for key, value in (("queue", 3), ("gate", False), ("premises", True), ("listening", 5),
                           ("identity", False), ("callback", False), ("ways", ["chat"])):
            factories.answer(visit, key, value)
        compute_and_store_scores(visit)
        visit.visited_on = date.today()
        visit.submitted_at = visit.approved_at = visit.started_at
        visit.status = "approved"
        db.session.commit()
        client_id, visit_id = visit.client_id, visit.id
    b = login_as("client")
    b.post("/language", {"language": "en"})
    response = b.post(f"/reports/clients/{client_id}/pdf/visit/{visit_id}",
                      {"start": (date.today() - timedelta(days=30)).isoformat(), "end": date.today().isoformat()})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Minutes in the queue?" in text and "How well did they listen?" in text
    assert "Were you offered a callback?" not in text
    assert "Was your identity checked?" not in text and "Were screens hidden?" not in text


# --- the starter checklist ------------------------------------------------------------------------


def test_the_starter_checklist_logic_is_loaded_by_the_demo_and_scores(app, world):
    from audit_app.checklists import demo as checklist_demo
    from audit_app.scoring import Answer as A
    from audit_app.scoring import missing_follow_ups, missing_required, score_visit, visibility

    with app.app_context():
        ctx = {"admin": db.session.merge(world.admin)}
        checklist_demo.load(ctx)
        version = ctx["starter_version"]
        assert version.status == "published"
        spec = version.to_spec()
        by_key = {q.key: q for q in spec.questions()}
        assert by_key["matter_involved_personal_data"].unscored
        assert by_key["visible_clutter"].follow_up == "photo"
        assert by_key["contact_channels_found"].kind == "multi"
        short = {"phone_queue_minutes": A(3), "matter_involved_personal_data": A(False)}
        seen = visibility(spec, short, "phone")
        assert not seen.question_shown("callback_offered") and not seen.question_shown("callback_kept")
        assert not seen.question_shown("identity_verified_before_disclosure")
        long = {"phone_queue_minutes": A(25), "callback_offered": A(True), "matter_involved_personal_data": A(True)}
        seen = visibility(spec, long, "phone")
        assert seen.question_shown("callback_kept") and seen.question_shown("identity_verified_before_disclosure")
        assert "callback_time_stated" in missing_required(spec, long, "phone")
        # the identity check failed only counts when the matter involved personal data
        failed = {"identity_verified_before_disclosure": A(False)}
        assert score_visit(spec, {**short, **failed}, "phone").critical_fail is False
        assert score_visit(spec, {**long, **failed}, "phone").critical_fail is True
        # clutter at a branch: a photo is needed
        clutter = {"visible_clutter": A(True)}
        assert ("visible_clutter", "photo") in missing_follow_ups(spec, clutter, "in_person")
        assert missing_follow_ups(spec, clutter, "in_person", {"visible_clutter": 1}) == []
        assert score_visit(spec, {"contact_channels_found": A(["phone", "chat", "email", "visiting_address"])},
                           "web").sections[0].score == 100.0
