"""The checklist designer: building, previewing, publishing, freezing, versions, import and export."""

from __future__ import annotations

import copy
import html
import io
import json
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from audit_app.checklists import fileformat, operations, queries
from audit_app.checklists.models import Checklist, ChecklistVersion, Question, Section
from audit_app.checklists.validation import validate_doc
from audit_app.core.errors import NotAllowed
from audit_app.extensions import db
from audit_app.scoring import DIMENSIONS, Answer, score_visit
from tests.factories import make_version, small_doc, starter_doc

V = "/admin/checklists/versions"


def _location(response) -> str:
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def _version_id(response) -> int:
    return int(re.search(r"/versions/(\d+)", _location(response)).group(1))


def _html(response) -> str:
    return response.get_data(as_text=True)


def _plain(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", _html(response)))


def _set_language(browser, language):
    assert browser.post("/account", {"language": language}).status_code == 302


# --- building a checklist through the UI -----------------------------------------------------

QUESTIONS = [
    # (form fields, what the preview shows on which channel)
    ({"kind": "yes_no", "key": "phone_menu", "prompt_en": "Was there a phone menu?", "prompt_fi": "Oliko puhelinvalikko?",
      "guidance_en": "Listen to the menu.", "weight": "1", "required": "y", "good_answer": "no", "channels": ["phone"]},
     "Was there a phone menu?"),
    ({"kind": "scale", "key": "greeting", "prompt_en": "How warm was the greeting?", "guidance_en": "Rate it.",
      "weight": "2", "required": "y", "allow_na": "y", "scale_min": "1", "scale_max": "5",
      "min_label_en": "Cold", "max_label_en": "Warm"},
     "How warm was the greeting?"),
    ({"kind": "choice", "key": "callback", "prompt_en": "Did the callback come?", "weight": "1,5", "required": "y",
      "opt_key_0": "on_time", "opt_label_0_en": "On time", "opt_fraction_0": "1",
      "opt_key_1": "late", "opt_label_1_en": "Late", "opt_fraction_1": "0,5",
      "opt_key_2": "never", "opt_label_2_en": "Never", "opt_fraction_2": "0", "channels": ["phone", "chat"]},
     "Did the callback come?"),
    ({"kind": "number", "key": "queue", "prompt_en": "Minutes in the queue?", "weight": "2", "required": "y",
      "unit": "minutes", "band_upto_0": "2", "band_fraction_0": "1", "band_upto_1": "10", "band_fraction_1": "0.5",
      "above": "0", "channels": ["in_person"], "photo": "allowed"},
     "Minutes in the queue?"),
    ({"kind": "text", "key": "notes", "prompt_en": "Anything else?", "channels": []}, "Anything else?"),
]


def _build_through_ui(b) -> int:
    response = b.post("/admin/checklists/new", {"title_en": "Branch audit", "title_fi": "Konttoriarviointi",
                                                "description_en": "A test."})
    vid = _version_id(response)
    assert b.post(f"{V}/{vid}/sections/new", {"key": "reach", "title_en": "Reaching us", "title_fi": "Tavoitettavuus",
                                            "dimension": "reachability", "weight": "2",
                                            "guidance_en": "Call us."}).status_code == 302
    assert b.post(f"{V}/{vid}/sections/new", {"key": "extra", "title_en": "Extra", "dimension": "empathy",
                                            "weight": "1"}).status_code == 302
    section = db.session.scalar(select(Section).where(Section.key == "reach"))
    for fields, _ in QUESTIONS:
        response = b.post(f"{V}/{vid}/sections/{section.id}/questions/new", fields)
        assert response.status_code == 302, _html(response)[:3000]
    return vid


def test_admin_builds_previews_and_publishes_a_checklist(app, world, login_as):
    b = login_as("admin")
    _set_language(b, "en")
    with app.app_context():
        vid = _build_through_ui(b)
        version = db.session.get(ChecklistVersion, vid)
        doc = fileformat.export_doc(version)
        assert [s["key"] for s in doc["sections"]] == ["reach", "extra"]
        questions = doc["sections"][0]["questions"]
        assert [q["key"] for q in questions] == ["phone_menu", "greeting", "callback", "queue", "notes"]
        assert questions[0]["good_answer"] == "no" and questions[0]["channels"] == ["phone"]
        assert questions[1]["min_label"] == {"en": "Cold", "fi": ""} and questions[1]["allow_na"] is True
        assert questions[2]["weight"] == 1.5
        assert questions[2]["options"][1] == {"key": "late", "label": {"en": "Late", "fi": ""}, "fraction": 0.5}
        assert questions[3]["bands"] == [{"upto": 2, "fraction": 1}, {"upto": 10, "fraction": 0.5}]
        assert questions[3]["photo"] == "allowed" and questions[4]["channels"] is None
        reach = version.sections[0]

    # the empty second section keeps it from being published, with the place named in words
    page = _plain(b.get(f"{V}/{vid}"))
    assert "Section 2 needs at least one question." in page and "sections[1]" not in page
    response = b.post(f"{V}/{vid}/publish")
    assert response.status_code == 400 and "Section 2 needs at least one question." in _html(response)

    # reorder: move the second section up, then delete it; move the text question up
    with app.app_context():
        extra = db.session.scalar(select(Section).where(Section.key == "extra", Section.version_id == vid))
        notes = db.session.scalar(select(Question).where(Question.key == "notes", Question.version_id == vid))
        extra_id, notes_id = extra.id, notes.id
    assert b.post(f"{V}/{vid}/sections/{extra_id}/move", {"direction": "up"}).status_code == 302
    with app.app_context():
        assert [s.key for s in db.session.get(ChecklistVersion, vid).sections] == ["extra", "reach"]
    assert b.post(f"{V}/{vid}/sections/{extra_id}/delete").status_code == 302
    assert b.post(f"{V}/{vid}/questions/{notes_id}/move", {"direction": "up"}).status_code == 302
    assert b.post(f"{V}/{vid}/questions/{notes_id}/move", {"direction": "sideways"}).status_code == 400
    with app.app_context():
        version = db.session.get(ChecklistVersion, vid)
        assert [s.key for s in version.sections] == ["reach"]
        assert [q.key for q in version.sections[0].questions] == ["phone_menu", "greeting", "callback", "notes", "queue"]
        assert [q.position for q in version.sections[0].questions] == [0, 1, 2, 3, 4]

    # preview per channel: questions of other channels are absent
    phone = _html(b.get(f"{V}/{vid}/preview?channel=phone"))
    assert "Was there a phone menu?" in phone and "Did the callback come?" in phone
    assert "Minutes in the queue?" not in phone and "How warm was the greeting?" in phone
    in_person = _html(b.get(f"{V}/{vid}/preview?channel=in_person"))
    assert "Minutes in the queue?" in in_person and "Stopwatch" in in_person
    assert "Was there a phone menu?" not in in_person and "Did the callback come?" not in in_person
    assert "Cold" in in_person and "Warm" in in_person
    assert b.get(f"{V}/{vid}/preview?channel=nonsense").status_code == 200

    response = b.post(f"{V}/{vid}/publish")
    assert _location(response).endswith(f"/versions/{vid}")
    with app.app_context():
        version = db.session.get(ChecklistVersion, vid)
        assert version.status == "published" and version.published_by_id == world.ids["admin"]
        before = fileformat.export_doc(version)
        question_id = version.sections[0].questions[0].id

    # every change on the published version is refused over HTTP
    refused = [
        ("get", f"{V}/{vid}/edit", None),
        ("post", f"{V}/{vid}/edit", {"title_en": "Changed"}),
        ("get", f"{V}/{vid}/sections/new", None),
        ("post", f"{V}/{vid}/sections/new", {"key": "new", "title_en": "New", "dimension": "privacy"}),
        ("get", f"{V}/{vid}/sections/{reach.id}", None),
        ("post", f"{V}/{vid}/sections/{reach.id}", {"key": "reach", "title_en": "Changed", "dimension": "privacy"}),
        ("post", f"{V}/{vid}/sections/{reach.id}/move", {"direction": "down"}),
        ("post", f"{V}/{vid}/sections/{reach.id}/delete", {}),
        ("get", f"{V}/{vid}/sections/{reach.id}/questions/new", None),
        ("post", f"{V}/{vid}/sections/{reach.id}/questions/new", QUESTIONS[0][0] | {"key": "other"}),
        ("get", f"{V}/{vid}/questions/{question_id}", None),
        ("post", f"{V}/{vid}/questions/{question_id}", QUESTIONS[0][0] | {"prompt_en": "Changed"}),
        ("post", f"{V}/{vid}/questions/{question_id}/move", {"direction": "down"}),
        ("post", f"{V}/{vid}/questions/{question_id}/delete", {}),
        ("post", f"{V}/{vid}/publish", {}),
    ]
    for method, url, data in refused:
        response = b.get(url) if method == "get" else b.post(url, data)
        assert response.status_code == 409, (method, url, response.status_code)
        assert "A published version cannot be changed" in _html(response)
    with app.app_context():
        assert fileformat.export_doc(db.session.get(ChecklistVersion, vid)) == before
    page = _html(b.get(f"{V}/{vid}"))
    assert f"/versions/{vid}/publish" not in page and f"/sections/{reach.id}/delete" not in page


def test_operations_refuse_every_change_to_a_published_version(app):
    with app.app_context():
        version = make_version(publish=True)
        section = version.sections[0]
        question = section.questions[0]
        before = fileformat.export_doc(version)
        q_doc = fileformat.question_doc(question) | {"key": "brand_new"}
        s_doc = fileformat.section_doc(section, with_questions=False) | {"key": "brand_new"}
        attempts = [
            lambda: operations.update_version(version, {"en": "X"}, {}, "visit"),
            lambda: operations.save_section(version, s_doc),
            lambda: operations.save_section(version, fileformat.section_doc(section, False), section),
            lambda: operations.delete_section(section),
            lambda: operations.move_section(section, 1),
            lambda: operations.save_question(section, q_doc),
            lambda: operations.save_question(section, fileformat.question_doc(question), question),
            lambda: operations.delete_question(question),
            lambda: operations.move_question(question, 1),
            lambda: operations.publish(version),
            lambda: operations.publish_checked(version),
            lambda: operations.require_draft(version),
        ]
        for attempt in attempts:
            with pytest.raises(NotAllowed):
                attempt()
        operations.retire(version)
        for attempt in attempts:
            with pytest.raises(NotAllowed):
                attempt()
        assert fileformat.export_doc(version) == before


def test_edit_of_a_published_version_makes_a_new_draft(app, login_as):
    b = login_as("admin")
    with app.app_context():
        version = make_version(publish=True)
        db.session.commit()
        vid, checklist_id = version.id, version.checklist_id
    response = b.post(f"{V}/{vid}/new-draft")
    draft_id = _version_id(response)
    assert draft_id != vid
    assert _version_id(b.post(f"{V}/{vid}/new-draft")) == draft_id  # one draft at a time
    with app.app_context():
        draft = db.session.get(ChecklistVersion, draft_id)
        original = db.session.get(ChecklistVersion, vid)
        assert draft.checklist_id == checklist_id and draft.number == 2 and draft.status == "draft"
        assert fileformat.export_doc(draft) == fileformat.export_doc(original)
        operations.save_question(draft.sections[0], fileformat.question_doc(draft.sections[0].questions[0])
                                 | {"prompt": {"en": "Changed"}}, draft.sections[0].questions[0])
        db.session.commit()
        assert original.sections[0].questions[0].prompt["en"] == "Was the number easy to find?"
        assert {q.id for q in draft.questions()}.isdisjoint({q.id for q in original.questions()})
    rows = _html(b.get("/admin/checklists"))
    assert "Pieni tarkistuslista" in rows


def test_retire_keeps_the_version_readable_but_not_offered(app, login_as):
    b = login_as("admin")
    with app.app_context():
        kept = make_version(publish=True)
        retired = make_version(publish=True)
        draft = make_version(publish=False)
        db.session.commit()
        kept_id, retired_id, draft_id = kept.id, retired.id, draft.id
        assert {v.id for v in queries.published_versions()} == {kept_id, retired_id}
    assert _location(b.post(f"{V}/{retired_id}/retire"))
    assert b.post(f"{V}/{retired_id}/retire").status_code == 409
    assert b.post(f"{V}/{draft_id}/retire").status_code == 409
    with app.app_context():
        assert [v.id for v in queries.published_versions()] == [kept_id]
        assert db.session.get(ChecklistVersion, retired_id).retired_at is not None
    assert b.get(f"{V}/{retired_id}").status_code == 200
    assert b.get(f"{V}/{retired_id}/preview?channel=phone").status_code == 200
    assert b.get(f"{V}/{retired_id}/export").status_code == 200


def test_questions_for_channel(app):
    with app.app_context():
        doc = small_doc()
        doc["sections"][0]["questions"][0]["channels"] = ["phone"]
        doc["sections"][1]["questions"][0]["channels"] = ["in_person", "chat"]
        version = make_version(doc)
        keys = lambda channel: [q.key for q in queries.version_questions_for_channel(version, channel)]  # noqa: E731
        assert keys("phone") == ["q1", "q2", "q3", "q5", "q6"]
        assert keys("chat") == ["q2", "q3", "q4", "q5", "q6"]
        assert keys(None) == ["q1", "q2", "q3", "q4", "q5", "q6"]


# --- the starter checklist --------------------------------------------------------------------


def test_starter_loads_validates_previews_and_scores(app, login_as):
    from audit_app.checklists import demo

    with app.test_request_context():
        assert validate_doc(starter_doc(), DIMENSIONS) == []
    with app.app_context():
        ctx: dict = {}
        demo.load(ctx)
        db.session.commit()
        version = ctx["starter_version"]
        assert version.status == "published" and len(version.questions()) == 40
        demo.load(ctx)  # idempotent
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ChecklistVersion)) == 1
        vid = version.id

        spec = version.to_spec()
        best = {}
        for question in version.questions():
            c = question.config
            best[question.key] = Answer(value={
                "yes_no": c.get("good_answer", "yes") == "yes",
                "scale": c.get("max", 5),
                "choice": max(c.get("options", [{"key": None, "fraction": 0}]), key=lambda o: o["fraction"])["key"],
                "number": c.get("bands", [{"upto": 0}])[0]["upto"],
            }.get(question.kind))
        for channel in ("phone", "in_person", "email"):
            assert score_visit(spec, best, channel).overall == pytest.approx(100.0)
        failed = dict(best, identity_verified_before_disclosure=Answer(value=False))
        result = score_visit(spec, failed, "phone")
        assert result.critical_fail and result.overall < 100

    b = login_as("admin")
    _set_language(b, "fi")
    for channel in ("in_person", "phone", "chat", "email", "social", "web"):
        page = _html(b.get(f"{V}/{vid}/preview?channel={channel}"))
        assert "Asiakaskokemuksen ulkopuolinen arviointi" in page
    phone = _html(b.get(f"{V}/{vid}/preview?channel=phone"))
    assert "Montako minuuttia odotit puhelinjonossa" in phone and "Sekuntikello" in phone
    assert "Montako minuuttia odotit puhelinjonossa" not in _html(b.get(f"{V}/{vid}/preview?channel=email"))


def test_export_import_export_is_identical(app, login_as):
    with app.app_context():
        for doc in (starter_doc(), small_doc()):
            version = fileformat.import_doc(doc)
            first = fileformat.export_doc(version)
            again = fileformat.import_doc(json.loads(fileformat.dumps(first)))
            assert fileformat.export_doc(again) == first
            assert again.checklist_id != version.checklist_id
        assert fileformat.export_doc(fileformat.import_doc(starter_doc())) == fileformat.export_doc(
            fileformat.import_doc(fileformat.export_doc(fileformat.import_doc(starter_doc()))))
        version = make_version(starter_doc())
        db.session.commit()
        vid = version.id
    b = login_as("admin")
    response = b.get(f"{V}/{vid}/export")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    exported = response.get_data()
    response = b.post("/admin/checklists/import", {"file": (io.BytesIO(exported), "c.json")},
                      content_type="multipart/form-data")
    new_id = _version_id(response)
    assert b.get(f"{V}/{new_id}/export").get_data() == exported
    with app.app_context():
        assert db.session.get(ChecklistVersion, new_id).status == "draft"


def test_cli_import_and_export(app, tmp_path):
    path = tmp_path / "starter.json"
    path.write_text(json.dumps(starter_doc()), encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["checklists", "import", str(path), "--publish"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        version = db.session.scalar(select(ChecklistVersion))
        assert version.status == "published"
        vid = version.id
    out = tmp_path / "out.json"
    result = runner.invoke(args=["checklists", "export", str(vid), "-o", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["checklists", "export", str(vid)])
    assert json.loads(result.output) == json.loads(out.read_text(encoding="utf-8"))
    assert runner.invoke(args=["checklists", "export", "999"]).exit_code != 0
    bad = small_doc()
    bad["sections"][0]["questions"][1]["bands"][1]["upto"] = 1
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = runner.invoke(args=["checklists", "import", str(path)])
    assert result.exit_code != 0 and "sections[0].questions[1].bands[1].upto" in result.output
    path.write_bytes(b"\xff\xfe not json")
    assert runner.invoke(args=["checklists", "import", str(path)]).exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checklist)) == 1


# --- validation: every invalid input gets a precise message in both languages ---------------------


def _q(doc, s, q):
    return doc["sections"][s]["questions"][q]


def _choice_without_options(d):
    _q(d, 1, 1).update(kind="choice", options=[])


def _option_fraction(d):
    _q(d, 1, 1).update(kind="choice", options=[{"key": "a", "label": {"en": "A"}, "fraction": 1.5}])


def _duplicate_option(d):
    _q(d, 1, 1).update(kind="choice", options=[{"key": "a", "label": {"en": "A"}, "fraction": 1},
                                                {"key": "a", "label": {"en": "B"}, "fraction": 0}])


def _bands_descend(d):
    _q(d, 0, 1)["bands"][1]["upto"] = 1


def _band_fraction(d):
    _q(d, 0, 1)["bands"][0]["fraction"] = -0.1


def _q_weight(d):
    _q(d, 0, 0)["weight"] = 0


def _s_weight(d):
    d["sections"][1]["weight"] = -1


def _scale(d):
    _q(d, 0, 2).update(min=5, max=5)


def _no_dimension(d):
    d["sections"][1]["dimension"] = None


def _prompt(d):
    _q(d, 1, 0)["prompt"] = {"en": " ", "fi": ""}


def _duplicate_key(d):
    _q(d, 1, 0)["key"] = "q1"


def _channel(d):
    _q(d, 0, 0)["channels"] = ["phone", "telepathy"]


def _kind(d):
    _q(d, 0, 0)["kind"] = "essay"


def _weight_text(d):
    _q(d, 0, 0)["weight"] = "heavy"


INVALID = [
    (_choice_without_options, "sections[1].questions[1].options",
     "a choice question needs at least one option", "valintakysymyksessä pitää olla vähintään yksi vaihtoehto"),
    (_option_fraction, "sections[1].questions[1].options[0].fraction",
     "a fraction must be between 0 and 1", "osuuden pitää olla välillä 0–1"),
    (_duplicate_option, "sections[1].questions[1].options[1].key", "duplicate key a", "tunniste a on jo käytössä"),
    (_bands_descend, "sections[0].questions[1].bands[1].upto", "bounds must ascend", "rajojen pitää kasvaa"),
    (_band_fraction, "sections[0].questions[1].bands[0].fraction",
     "a fraction must be between 0 and 1", "osuuden pitää olla välillä 0–1"),
    (_q_weight, "sections[0].questions[0].weight",
     "the weight must be greater than 0", "painon pitää olla suurempi kuin 0"),
    (_s_weight, "sections[1].weight", "the weight must be greater than 0", "painon pitää olla suurempi kuin 0"),
    (_weight_text, "sections[0].questions[0].weight", "must be a number", "pitää olla luku"),
    (_scale, "sections[0].questions[2].max", "the scale's minimum must be below its maximum",
     "asteikon alapään pitää olla pienempi kuin yläpään"),
    (_no_dimension, "sections[1].dimension", "every section needs a dimension",
     "jokaisella osiolla pitää olla ulottuvuus"),
    (_prompt, "sections[1].questions[0].prompt", "text is required in Finnish or English",
     "teksti tarvitaan suomeksi tai englanniksi"),
    (_duplicate_key, "sections[1].questions[0].key", "duplicate key q1", "tunniste q1 on jo käytössä"),
    (_channel, "sections[0].questions[0].channels[1]",
     "unknown channel: use one of in_person, phone, chat, email, social, web",
     "tuntematon kanava: käytä jotakin näistä: in_person, phone, chat, email, social, web"),
    (_kind, "sections[0].questions[0].kind", "unknown kind: use one of yes_no, scale, choice, multi, number, date, time, text, photo",
     "tuntematon tyyppi: käytä jotakin näistä: yes_no, scale, choice, multi, number, date, time, text, photo"),
]


@pytest.mark.parametrize("mutate,path,english,finnish", INVALID, ids=[c[0].__name__ for c in INVALID])
def test_validator_names_the_place_in_both_languages(app, mutate, path, english, finnish):
    doc = small_doc()
    mutate(doc)
    with app.test_request_context():
        for language, message in (("en", english), ("fi", finnish)):
            with force_locale(language):
                problems = [str(p) for p in validate_doc(doc, DIMENSIONS)]
            assert f"{path}: {message}" in problems, problems


def _assert_problem_in_words(page: str, path: str, message: str) -> None:
    """The problem at ``path`` is on the page in words ("Section 2, question 1, weight: ..."), not as the
    technical path; a required list left empty reads as a sentence ("Section 2 needs at least one option.")."""
    assert f'data-path="{path}">' in page, (path, message)
    shown = page.split(f'data-path="{path}">', 1)[1].split("</li>", 1)[0]
    assert "sections[" not in shown and "questions[" not in shown, shown
    assert shown.startswith(("Section", "Osio")), shown
    if path.endswith((".options", ".bands", ".questions")):
        assert "needs at least one" in shown or "tarvitsee vähintään" in shown, shown
    else:
        assert message in shown, (message, shown)


@pytest.mark.parametrize("mutate,path,english,finnish", INVALID, ids=[c[0].__name__ for c in INVALID])
def test_import_upload_reports_the_place_in_the_users_language(app, login_as, mutate, path, english, finnish):
    doc = small_doc()
    mutate(doc)
    b = login_as("admin")
    for language, message in (("en", english), ("fi", finnish)):
        _set_language(b, language)
        response = b.post("/admin/checklists/import", {"file": (io.BytesIO(json.dumps(doc).encode()), "x.json")},
                          content_type="multipart/form-data")
        assert response.status_code == 400
        _assert_problem_in_words(_html(response).replace("&#39;", "'"), path, message)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checklist)) == 0


def test_designer_forms_report_invalid_input_in_both_languages(app, login_as):
    b = login_as("admin")
    with app.app_context():
        version = make_version(publish=False)
        db.session.commit()
        vid, sid, s2 = version.id, version.sections[0].id, version.sections[1].id
        qid = version.sections[1].questions[1].id
    cases = [
        (f"{V}/{vid}/sections/{s2}/questions/new", {"kind": "choice", "key": "c1", "prompt_en": "Pick"},
         "sections[1].questions[3].options", "a choice question needs at least one option",
         "valintakysymyksessä pitää olla vähintään yksi vaihtoehto"),
        (f"{V}/{vid}/sections/{s2}/questions/new", {"kind": "choice", "key": "c1", "prompt_en": "Pick",
                                                     "opt_key_0": "a", "opt_label_0_en": "A", "opt_fraction_0": "2"},
         "sections[1].questions[3].options[0].fraction", "a fraction must be between 0 and 1",
         "osuuden pitää olla välillä 0–1"),
        (f"{V}/{vid}/questions/{qid}", {"kind": "number", "key": "q5", "prompt_en": "Wait?", "unit": "minutes",
                                        "band_upto_0": "5", "band_fraction_0": "1",
                                        "band_upto_1": "3", "band_fraction_1": "0"},
         "sections[1].questions[1].bands[1].upto", "bounds must ascend", "rajojen pitää kasvaa"),
        (f"{V}/{vid}/sections/{sid}/questions/new", {"kind": "yes_no", "key": "y1", "prompt_en": "Ok?",
                                                      "weight": "0"},
         "sections[0].questions[3].weight", "the weight must be greater than 0", "painon pitää olla suurempi kuin 0"),
        (f"{V}/{vid}/sections/{sid}/questions/new", {"kind": "yes_no", "key": "y1", "prompt_en": "Ok?",
                                                      "weight": "lots"},
         "sections[0].questions[3].weight", "must be a number", "pitää olla luku"),
        (f"{V}/{vid}/sections/{sid}/questions/new", {"kind": "scale", "key": "s1", "prompt_en": "Rate",
                                                      "scale_min": "5", "scale_max": "1"},
         "sections[0].questions[3].max", "the scale's minimum must be below its maximum",
         "asteikon alapään pitää olla pienempi kuin yläpään"),
        (f"{V}/{vid}/sections/{sid}/questions/new", {"kind": "yes_no", "key": "y1", "prompt_en": ""},
         "sections[0].questions[3].prompt", "text is required in Finnish or English",
         "teksti tarvitaan suomeksi tai englanniksi"),
        (f"{V}/{vid}/sections/{sid}/questions/new", {"kind": "yes_no", "key": "q1", "prompt_en": "Again"},
         "sections[0].questions[3].key", "duplicate key q1", "tunniste q1 on jo käytössä"),
        (f"{V}/{vid}/sections/{sid}/questions/new", {"kind": "yes_no", "key": "y1", "prompt_en": "Ok?",
                                                      "channels": ["pigeon"]},
         "sections[0].questions[3].channels[0]", "unknown channel", "tuntematon kanava"),
        (f"{V}/{vid}/sections/{sid}/questions/new", {"kind": "poem", "key": "y1", "prompt_en": "Ok?"},
         "sections[0].questions[3].kind", "unknown kind", "tuntematon tyyppi"),
        (f"{V}/{vid}/sections/new", {"key": "s9", "title_en": "New", "weight": "1"},
         "sections[2].dimension", "every section needs a dimension", "jokaisella osiolla pitää olla ulottuvuus"),
        (f"{V}/{vid}/sections/{sid}", {"key": "a", "title_en": "A", "dimension": "reachability", "weight": "-2"},
         "sections[0].weight", "the weight must be greater than 0", "painon pitää olla suurempi kuin 0"),
        (f"{V}/{vid}/sections/{sid}", {"key": "b", "title_en": "A", "dimension": "reachability"},
         "sections[0].key", "duplicate key b", "tunniste b on jo käytössä"),
    ]
    with app.app_context():
        before = fileformat.export_doc(db.session.get(ChecklistVersion, vid))
    for url, data, path, english, finnish in cases:
        for language, message in (("en", english), ("fi", finnish)):
            _set_language(b, language)
            response = b.post(url, data)
            assert response.status_code == 400, (url, data, response.status_code)
            page = _html(response).replace("&#39;", "'")
            _assert_problem_in_words(page, path, message)
    with app.app_context():
        assert fileformat.export_doc(db.session.get(ChecklistVersion, vid)) == before


def test_publish_shows_every_problem(app, login_as):
    b = login_as("admin")
    _set_language(b, "en")
    with app.app_context():
        version = operations.create_checklist({"en": "Empty"})
        db.session.commit()
        vid = version.id
    response = b.post(f"{V}/{vid}/publish")
    assert response.status_code == 400 and "The checklist needs at least one section." in _plain(response)
    with app.app_context():
        assert db.session.get(ChecklistVersion, vid).status == "draft"
        version = db.session.get(ChecklistVersion, vid)
        broken = small_doc()["sections"][0] | {"dimension": "reachability"}
        section = operations.save_section(version, {k: v for k, v in broken.items() if k != "questions"})
        # data that bypassed the forms (e.g. an old row) is still caught at publish time
        db.session.add(Question(section=section, version=version, position=0, key="zz", kind="choice",
                                prompt={"en": "Pick"}, config={"options": []}))
        db.session.commit()
    response = b.post(f"{V}/{vid}/publish")
    assert response.status_code == 400
    assert "Section 1, question 1 needs at least one option." in _plain(response)


# --- bad uploads and nasty input --------------------------------------------------------------------


@pytest.mark.parametrize("data,english,finnish", [
    (b"{not json", "The file is not valid JSON", "Tiedosto ei ole kelvollista JSONia"),
    (b"\xff\xfe\x00{}", "The file is not UTF-8 text.", "Tiedosto ei ole UTF-8-tekstiä."),
    (b" " * (1024 * 1024) + b"{}", "The file is too large: at most 1 MB.", "Tiedosto on liian suuri: enintään 1 Mt."),
    (b"[1, 2]", "must contain one JSON object", "pitää olla yksi JSON-objekti"),
    (b'"a string"', "must contain one JSON object", "pitää olla yksi JSON-objekti"),
    (b"", "The file is empty.", "Tiedosto on tyhjä."),
    (b'{"format": "outside-eye-checklist/1", "weight": NaN}', "The file is not valid JSON",
     "Tiedosto ei ole kelvollista JSONia"),
    (b"[" * 100000 + b"]" * 100000, "The file is not valid JSON", "Tiedosto ei ole kelvollista JSONia"),
])
def test_bad_uploads_get_400_with_a_message(app, login_as, data, english, finnish):
    b = login_as("admin")
    for language, message in (("en", english), ("fi", finnish)):
        _set_language(b, language)
        response = b.post("/admin/checklists/import", {"file": (io.BytesIO(data), "x.json")},
                          content_type="multipart/form-data")
        assert response.status_code == 400
        assert message in _html(response)


def test_import_without_a_file_and_wrong_shapes(app, login_as):
    b = login_as("admin")
    _set_language(b, "en")
    response = b.post("/admin/checklists/import", {})
    assert response.status_code == 400 and "Choose a file to import." in _html(response)
    weird = small_doc()
    weird["sections"][0]["questions"] = {"not": "a list"}
    weird["sections"][1]["title"] = "plain string"
    weird["sections"][1]["questions"][0] = ["a", "list"]
    weird["extra"] = 1
    response = b.post("/admin/checklists/import", {"file": (io.BytesIO(json.dumps(weird).encode()), "x.json")},
                      content_type="multipart/form-data")
    page = _html(response)
    assert response.status_code == 400
    for expected in ("Extra: unknown field", "Section 1, questions: must be a list",
                     "Section 2, title: must be an object with the keys en and fi",
                     "Section 2, question 1: must be an object"):
        assert expected in page


def test_foreign_and_missing_ids_are_404(app, login_as):
    b = login_as("admin")
    with app.app_context():
        one, two = make_version(publish=False), make_version(publish=False)
        db.session.commit()
        v1, s2, q2 = one.id, two.sections[0].id, two.sections[0].questions[0].id
    assert b.get(f"{V}/{v1}/sections/{s2}").status_code == 404
    assert b.get(f"{V}/{v1}/questions/{q2}").status_code == 404
    assert b.post(f"{V}/{v1}/questions/{q2}/delete").status_code == 404
    assert b.get(f"{V}/999999").status_code == 404
    assert b.get(f"{V}/999999/preview").status_code == 404
    with app.app_context():
        assert db.session.get(Question, q2) is not None


def test_custom_dimension(app, login_as):
    b = login_as("admin")
    _set_language(b, "en")
    response = b.post("/admin/dimensions", {"code": "accessibility", "name_en": "Accessibility",
                                            "name_fi": "Saavutettavuus"})
    assert response.status_code == 302
    assert b.post("/admin/dimensions", {"code": "accessibility", "name_en": "Again"}).status_code == 400
    response = b.post("/admin/dimensions", {"code": "Bad Code!", "name_en": "X"})
    assert response.status_code == 400 and "lowercase letters" in _html(response)
    assert b.post("/admin/dimensions", {"code": "nameless"}).status_code == 400
    with app.app_context():
        version = make_version(publish=False)
        db.session.commit()
        vid = version.id
    assert "Accessibility" in _html(b.get(f"{V}/{vid}/sections/new"))
    assert b.post(f"{V}/{vid}/sections/new", {"key": "acc", "title_en": "Access", "dimension": "accessibility",
                                            "weight": "1"}).status_code == 302
    doc = copy.deepcopy(small_doc())
    doc["sections"][0]["dimension"] = "accessibility"
    with app.app_context():
        assert fileformat.import_doc(doc).sections[0].dimension == "accessibility"


def test_question_input_partial_names_and_targets(app):
    """The partial the evaluator form includes: field names, data attributes, disabled, answers."""
    from flask import render_template_string

    with app.test_request_context():
        version = make_version(publish=False)
        by_key = {q.key: q for q in version.questions()}
        render = lambda q, answer=None, disabled=False: render_template_string(  # noqa: E731
            '{% include "checklists/_question_input.html" %}', question=q, language="en", answer=answer,
            disabled=disabled)
        q1 = by_key["q1"]
        out = render(q1, Answer(value=False))
        assert f'data-question-id="{q1.id}"' in out and 'data-kind="yes_no"' in out
        assert f'name="q-{q1.id}"' in out and f'name="q-{q1.id}-comment"' in out
        assert re.search(r'value="no"[^>]*checked', out) and not re.search(r'value="yes"[^>]*checked', out)
        assert "disabled" in render(q1, disabled=True)
        q2 = by_key["q2"]
        out = render(q2, Answer(value=7))
        assert 'data-stopwatch' in out and 'value="7"' in out and "minutes" in out
        q3 = by_key["q3"]
        out = render(q3)
        assert f'name="q-{q3.id}-na"' in out and out.count(f'name="q-{q3.id}"') == 5
        assert "photo" in render(by_key["q5"]) and "<textarea" in render(by_key["q6"])
