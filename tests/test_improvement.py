"""Improvement (issue 16): targets met or not with the signed gap, the perception gap, corrective
actions verified or reopened by later approved visits. Figures are computed by hand below.

The small checklist (tests.factories.small_doc, DESIGN section 4's worked example):
- the worked example: V = 33.33…, reachability 50.0, privacy 0.0 (q4 critical, failed);
- every answer good (q1 yes, q2 1 min, q3 5, q4 yes, q5 yes): V = 100, reachability 100, privacy 100.
Two approved phone visits of each kind's one: overall (33.33… + 100) / 2 = 66.67, reachability
(50 + 100) / 2 = 75.0, privacy (0 + 100) / 2 = 50.0.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from audit_app.accounts.models import User
from audit_app.checklists import operations as checklist_ops
from audit_app.checklists.models import Question
from audit_app.extensions import db
from audit_app.improvement import operations, queries
from audit_app.improvement.models import CorrectiveAction
from audit_app.submissions.operations import approve_visit
from tests import factories

GOOD = {"q1": True, "q2": 1, "q3": 5, "q4": True, "q5": True}
TODAY = date.today()


def _user(world, key="client_user"):
    return db.session.get(User, world.ids[key])


def _two_visits(world, version=None, channel="phone", location=None, visited_on=None):
    client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
    version = version or factories.make_version()
    kw = dict(channel=channel, location=location, visited_on=visited_on)
    a = factories.make_scored_visit(client, evaluator, version, **kw)
    b = factories.make_scored_visit(client, evaluator, version, answers=GOOD, **kw)
    return version, a, b


def _filters(world, channel=None, start=None, end=None):
    return SimpleNamespace(client_id=world.ids["client_a"], start=start or TODAY - timedelta(days=30),
                           end=end or TODAY, channel=channel, location_id=None, region=None, version_id=None)


def _figures(world, channel=None):
    found = queries.outside_eye(world.ids["client_a"], TODAY - timedelta(days=30), TODAY, channel=channel)
    overall = {"score": found["overall"][0], "n": found["overall"][1]}
    dims = [{"code": c, "score": s, "n": n} for c, (s, n) in found.items() if c != "overall"]
    return overall, dims


# --- targets --------------------------------------------------------------------------------------


def test_targets_met_and_signed_gap_by_hand(app, world):
    with app.app_context():
        _two_visits(world)
        cid = world.ids["client_a"]
        operations.set_target(cid, None, dimension="overall", channel=None, value=70, applies_from=TODAY)
        operations.set_target(cid, None, dimension="reachability", channel=None, value=75, applies_from=TODAY)
        operations.set_target(cid, None, dimension="privacy", channel="phone", value=40, applies_from=TODAY)
        # a target from tomorrow does not apply yet
        operations.set_target(cid, None, dimension="empathy", channel=None, value=10, applies_from=TODAY + timedelta(1))
        overall, dims = _figures(world)
        rows = queries.report_targets(_filters(world), overall, dims, "en")
        by = {(r["code"], r["channel"]): r for r in rows}
        assert set(by) == {("overall", None), ("reachability", None), ("privacy", "phone")}
        assert by[("overall", None)]["met"] is False and by[("overall", None)]["gap_display"] == "-3.3"
        assert by[("reachability", None)]["met"] is True and by[("reachability", None)]["gap_display"] == "0.0"
        # the phone's own target is read against the phone's figures: 50.0 − 40 = +10.0
        assert by[("privacy", "phone")]["met"] is True and by[("privacy", "phone")]["gap_display"] == "+10.0"


def test_a_later_target_and_a_channels_own_target_replace_earlier_ones(app, world):
    with app.app_context():
        _two_visits(world)
        cid = world.ids["client_a"]
        operations.set_target(cid, None, dimension="overall", channel=None, value=50, applies_from=TODAY - timedelta(9))
        operations.set_target(cid, None, dimension="overall", channel=None, value=90, applies_from=TODAY - timedelta(2))
        operations.set_target(cid, None, dimension="overall", channel="phone", value=60, applies_from=TODAY - timedelta(5))
        overall, dims = _figures(world, channel="phone")
        (row,) = queries.report_targets(_filters(world, channel="phone"), overall, dims, "en")
        assert (row["target"], row["met"], row["gap_display"]) == (60, True, "+6.7")
        overall, dims = _figures(world)
        wide = [r for r in queries.report_targets(_filters(world), overall, dims, "en") if r["channel"] is None]
        assert [(r["target"], r["met"], r["gap_display"]) for r in wide] == [(90, False, "-23.3")]
        # the period's end decides which target applies
        old = queries.report_targets(_filters(world, end=TODAY - timedelta(3)), overall, dims, "en")
        assert [r["target"] for r in old if r["channel"] is None] == [50]


def test_no_visits_means_no_verdict(app, world):
    with app.app_context():
        operations.set_target(world.ids["client_a"], None, dimension="overall", channel=None, value=70,
                              applies_from=TODAY)
        (row,) = queries.report_targets(_filters(world), {"score": None, "n": 0}, [], "en")
        assert row["met"] is None and row["gap_display"] == "–"


def test_signed_rounding():
    assert queries.signed(84.25 - 80) == "+4.3"
    assert queries.signed(-0.04) == "0.0"
    assert queries.signed(-3.25) == "-3.3"
    assert queries.signed(None) == "–"


def test_target_value_out_of_range_is_a_form_error(app, world, login_as):
    with app.app_context():
        _user(world).manager = True
        db.session.commit()
    browser = login_as("client")
    response = browser.post(f"/clients/{world.ids['client_a']}/targets",
                            {"dimension": "overall", "channel": "", "value": "120", "applies_from": TODAY.isoformat()})
    assert response.status_code == 400
    assert "invalid-feedback" in response.get_data(as_text=True)
    response = browser.post(f"/clients/{world.ids['client_a']}/targets",
                            {"dimension": "overall", "channel": "", "value": "80", "applies_from": TODAY.isoformat()})
    assert response.status_code == 302


def test_a_client_user_who_is_not_a_manager_reads_but_cannot_change(app, world, login_as):
    browser = login_as("client")
    cid = world.ids["client_a"]
    assert browser.get(f"/clients/{cid}/targets").status_code == 200
    response = browser.post(f"/clients/{cid}/targets",
                            {"dimension": "overall", "channel": "", "value": "80", "applies_from": TODAY.isoformat()})
    assert response.status_code == 403
    with app.app_context():
        assert queries.targets(cid) == []


def test_admin_sets_the_manager_flag_on_the_user_form(app, world, login_as):
    browser = login_as("admin")
    uid = world.ids["client_user"]
    response = browser.post(f"/admin/users/{uid}", {"email": "client@a.example", "name": "Client A User",
                                                   "role": "client", "client_id": world.ids["client_a"],
                                                   "language": "fi", "active": "y", "manager": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert _user(world).is_manager


# --- self-assessment and the perception gap ------------------------------------------------------


def _self(world, version, answers, channel="phone", on=None):
    sa = operations.start_self_assessment(world.ids["client_a"], _user(world), version=version, channel=channel,
                                          location=None)
    ids = {q.key: q.id for q in version.questions()}
    errors = operations.save_self_answers(sa, {ids[k]: (v, v is None, "") for k, v in answers.items()})
    assert errors == {}
    assert operations.submit_self_assessment(sa) == []
    if on is not None:
        sa.assessed_on = on
        sa.submitted_at = sa.submitted_at - timedelta(days=(TODAY - on).days)
    db.session.flush()
    return sa


def _na_doc():
    doc = factories.small_doc()
    for q in doc["sections"][1]["questions"]:
        if q["key"] in ("q4", "q5"):
            q["allow_na"] = True
    return doc


def test_perception_gap_per_dimension_and_channel_by_hand(app, world):
    with app.app_context():
        version, *_ = _two_visits(world)
        _self(world, version, GOOD)  # believes 100 everywhere
        (g,) = queries.perception_gap(world.ids["client_a"], TODAY - timedelta(30), TODAY, "en")
        rows = {r["code"]: r for r in g.rows}
        assert g.channel == "phone"
        assert rows["overall"]["gap_display"] == "+33.3" and rows["overall"]["found_display"] == "66.7"
        assert rows["reachability"]["gap_display"] == "+25.0"
        assert rows["privacy"]["gap_display"] == "+50.0"
        assert rows["empathy"]["gap"] is None  # neither side has it
        # q4 passed by the company, failed in 1 of the 2 visits
        assert [(d["key"], d["failed"], d["included"]) for d in g.differences] == [("q4", 1, 2)]


def test_latest_self_assessment_in_the_period_counts(app, world):
    with app.app_context():
        version, *_ = _two_visits(world, visited_on=TODAY - timedelta(10))
        worked = {"q1": True, "q2": 7, "q3": None, "q4": False, "q5": True}
        _self(world, version, GOOD, on=TODAY - timedelta(20))  # older: 100
        _self(world, version, worked, on=TODAY - timedelta(5))  # latest in the period: 33.33…
        (g,) = queries.perception_gap(world.ids["client_a"], TODAY - timedelta(30), TODAY - timedelta(1), "en")
        rows = {r["code"]: r for r in g.rows}
        # 33.33… − 66.67 = −33.3; reachability 50 − 75 = −25.0; privacy 0 − 50 = −50.0
        assert (rows["overall"]["gap_display"], rows["reachability"]["gap_display"],
                rows["privacy"]["gap_display"]) == ("-33.3", "-25.0", "-50.0")
        # a period ending before the latest one takes the older one
        (g,) = queries.perception_gap(world.ids["client_a"], TODAY - timedelta(30), TODAY - timedelta(10), "en")
        assert {r["code"]: r for r in g.rows}["overall"]["believe"] == 100
        # no self-assessment in the period: no gap
        assert queries.perception_gap(world.ids["client_a"], TODAY - timedelta(3), TODAY, "en") == []


def test_a_dimension_the_self_assessment_lacks(app, world):
    with app.app_context():
        version = factories.make_version(_na_doc())
        _two_visits(world, version)
        _self(world, version, {"q1": True, "q2": 1, "q3": 5, "q4": None, "q5": None})  # privacy all N/A
        (g,) = queries.perception_gap(world.ids["client_a"], TODAY - timedelta(30), TODAY, "en")
        rows = {r["code"]: r for r in g.rows}
        assert rows["privacy"]["believe"] is None and rows["privacy"]["found_display"] == "50.0"
        assert rows["privacy"]["gap"] is None and rows["privacy"]["gap_display"] == "–"
        # overall: only section A is scored, 100; the outside eye 66.67
        assert rows["overall"]["gap_display"] == "+33.3"


def test_self_assessments_never_change_a_dashboard_figure(app, world, login_as):
    from audit_app.reports import queries as report_queries

    with app.app_context():
        version, *_ = _two_visits(world)
        db.session.commit()
        f = report_queries.Filters(client_id=world.ids["client_a"], start=TODAY - timedelta(30), end=TODAY)

        def figures():
            d = report_queries.dashboard(f, "en")
            return (d["overall"]["score"], d["overall"]["n"], [(x["code"], x["score"], x["n"]) for x in d["dimensions"]],
                    [(q["prompt"], q["failed"]) for q in d["most_failed"]])

        before = figures()
        _self(world, version, GOOD)
        _self(world, version, {"q1": False, "q2": 30, "q3": 1, "q4": False, "q5": False})
        db.session.commit()
        assert figures() == before
    page = login_as("client").get("/dashboard").get_data(as_text=True)
    assert "66.7" in page


def test_self_assessment_form_saves_refuses_and_submits(app, world, login_as):
    with app.app_context():
        _user(world).manager = True
        version = factories.make_version()
        db.session.commit()
        ids = {q.key: q.id for q in version.questions()}
        vid = version.id
    browser = login_as("client")
    cid = world.ids["client_a"]
    response = browser.post(f"/clients/{cid}/self-assessments", {"version_id": vid, "channel": "phone"})
    assert response.status_code == 302
    url = response.headers["Location"]
    page = browser.get(url).get_data(as_text=True)
    assert f'name="q-{ids["q1"]}"' in page and "data-form-logic" in page
    # a scale point out of range: refused with the question's message, nothing lost
    response = browser.post(url, {f"q-{ids['q1']}": "yes", f"q-{ids['q3']}": "9", "do": "save"})
    assert response.status_code == 400
    # submitting with required answers missing keeps what was given and names what is missing
    response = browser.post(url, {f"q-{ids['q1']}": "yes", "do": "submit"})
    assert response.status_code == 400
    assert "self-missing" in response.get_data(as_text=True)
    with app.app_context():
        (sa,) = queries.self_assessments(cid)
        assert sa.status == "draft" and [a.value for a in sa.answers] == [True]
    response = browser.post(url, {f"q-{ids['q1']}": "yes", f"q-{ids['q2']}": "1", f"q-{ids['q3']}": "5",
                                  f"q-{ids['q4']}": "yes", f"q-{ids['q5']}": "no", "do": "submit"})
    assert response.status_code == 302
    with app.app_context():
        (sa,) = queries.self_assessments(cid)
        # A = 100; B: q4 yes, q5 no → 50; V = (2 × 100 + 50) / 3 = 83.3
        assert sa.status == "submitted" and round(sa.score_overall, 1) == 83.3
        assert sa.dimension_scores == {"reachability": 100.0, "privacy": 50.0}
    page = browser.get(f"/clients/{cid}/perception-gap").get_data(as_text=True)
    assert "data:image/svg+xml;base64," not in page or "gap-chart" in page
    assert "gap-table" in page


# --- corrective actions ---------------------------------------------------------------------------


def _q(version, key):
    return db.session.scalar(select(Question).where(Question.version_id == version.id, Question.key == key))


def _action_on(world, visit, key="q4", done=True):
    owner = _user(world)
    action = operations.create_action(visit.client_id, owner, question=_q(visit.checklist_version, key),
                                      what="Ask for identity first", owner=owner, due_on=TODAY + timedelta(7),
                                      visit=visit)
    if done:
        operations.move_action(action, owner, "done")
    return action


def _approve_later(world, version, answers, **kw):
    visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator), version,
                                        answers=answers, status="submitted", **kw)
    approve_visit(visit, db.session.get(User, world.ids["admin"]))
    return visit


def test_a_later_visit_on_the_same_location_verifies_then_a_failure_reopens(app, world):
    with app.app_context():
        client = db.session.merge(world.client_a)
        here, there = factories.make_location(client), factories.make_location(client, name="Other")
        version = factories.make_version()
        first = factories.make_scored_visit(client, db.session.merge(world.evaluator), version, location=here)
        action = _action_on(world, first)
        assert (action.location_id, action.status) == (here.id, "done")
        _approve_later(world, version, GOOD, location=there)  # another location: proves nothing here
        assert action.status == "done"
        later = _approve_later(world, version, GOOD, location=here)
        assert action.status == "verified" and action.decided_by_visit_id == later.id
        # a verified action stays verified; a done one is reopened by a failure
        operations.move_action(action, _user(world), "in_progress") if action.status != "verified" else None
        second = _action_on(world, first, key="q4")
        failing = _approve_later(world, version, factories.WORKED_EXAMPLE, location=here)
        assert second.status == "reopened" and second.decided_by_visit_id == failing.id
        assert action.status == "verified"
        assert [e.new_status for e in second.events] == ["open", "done", "reopened"]
        assert second.events[-1].visit_id == failing.id


def test_same_channel_without_location(app, world):
    with app.app_context():
        version = factories.make_version()
        first = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                            version, channel="phone")
        action = _action_on(world, first)
        assert action.location_id is None and action.channel == "phone"
        _approve_later(world, version, GOOD, channel="chat")
        assert action.status == "done"
        later = _approve_later(world, version, GOOD, channel="phone")
        assert action.status == "verified" and action.decided_by_visit_id == later.id


def test_another_version_with_the_same_key_verifies(app, world):
    with app.app_context():
        version = factories.make_version()
        first = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator), version)
        action = _action_on(world, first)
        draft = checklist_ops.new_draft(version)
        checklist_ops.publish(draft)
        assert draft.checklist_id == version.checklist_id and draft.id != version.id
        other = factories.make_version()  # another checklist with the same keys: not the same question
        _approve_later(world, other, GOOD)
        assert action.status == "done"
        later = _approve_later(world, draft, GOOD)
        assert action.status == "verified" and action.decided_by_visit_id == later.id


def test_open_actions_and_na_answers_are_not_decided(app, world):
    with app.app_context():
        version = factories.make_version(_na_doc())
        first = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator), version)
        open_action = _action_on(world, first, done=False)
        done_action = _action_on(world, first)
        _approve_later(world, version, {**GOOD, "q4": None})  # q4 N/A: proves nothing
        assert (open_action.status, done_action.status) == ("open", "done")
        _approve_later(world, version, GOOD)
        assert (open_action.status, done_action.status) == ("open", "verified")


def test_manager_creates_an_action_from_a_failed_item_and_moves_it(app, world, login_as):
    with app.app_context():
        _user(world).manager = True
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator))
        other_visit = factories.make_scored_visit(db.session.merge(world.client_b), db.session.merge(world.evaluator))
        db.session.commit()
        vid, other_vid = visit.id, other_visit.id
    cid = world.ids["client_a"]
    browser = login_as("client")
    url = f"/clients/{cid}/actions/new?visit_id={vid}&key=q4"
    assert browser.get(url).status_code == 200
    assert browser.get(f"/clients/{cid}/actions/new?visit_id={vid}&key=q1").status_code == 404  # q1 passed
    assert browser.get(f"/clients/{cid}/actions/new?visit_id={other_vid}&key=q4").status_code == 404
    response = browser.post(url, {"what": "", "owner_id": world.ids["client_user"], "due_on": TODAY.isoformat()})
    assert response.status_code == 400
    # an owner of another client is refused
    response = browser.post(url, {"what": "Train", "owner_id": world.ids["other_client_user"],
                                  "due_on": TODAY.isoformat()})
    assert response.status_code == 400
    response = browser.post(url, {"what": "Train the staff", "owner_id": world.ids["client_user"],
                                  "due_on": (TODAY - timedelta(1)).isoformat()})
    assert response.status_code == 302
    action_url = response.headers["Location"]
    with app.app_context():
        (action,) = db.session.scalars(select(CorrectiveAction)).all()
        aid = action.id
    listing = browser.get(f"/clients/{cid}/actions?overdue=1").get_data(as_text=True)
    assert "Train the staff" in listing
    assert "Train the staff" not in browser.get(f"/clients/{cid}/actions?status=done").get_data(as_text=True)
    assert browser.post(f"/actions/{aid}/status", {"status": "verified"}).status_code == 400  # not by hand
    assert browser.post(f"/actions/{aid}/status", {"status": "done", "comment": "Trained"}).status_code == 302
    assert browser.post(f"/actions/{aid}/comments", {"text": "All staff trained."}).status_code == 302
    page = browser.get(action_url).get_data(as_text=True)
    assert "All staff trained." in page and "Trained" in page
    assert "Train the staff" not in browser.get(f"/clients/{cid}/actions?overdue=1").get_data(as_text=True)
    # another client and evaluators never see it
    assert login_as("other_client").get(action_url).status_code == 404
    assert login_as("evaluator").get(action_url).status_code == 403
    assert login_as("admin").get(action_url).status_code == 200


def test_action_from_a_locations_most_failed_questions(app, world, login_as):
    with app.app_context():
        _user(world).manager = True
        here = factories.make_location(db.session.merge(world.client_a))
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                            location=here)
        q4 = _q(visit.checklist_version, "q4")
        db.session.commit()
        lid, qid = here.id, q4.id
    cid = world.ids["client_a"]
    browser = login_as("client")
    page = browser.get(f"/clients/{cid}/actions/new?location_id={lid}").get_data(as_text=True)
    assert "Was your identity verified?" in page
    response = browser.post(f"/clients/{cid}/actions/new?location_id={lid}&question_id={qid}",
                            {"what": "Check IDs", "owner_id": world.ids["client_user"], "due_on": TODAY.isoformat()})
    assert response.status_code == 302
    with app.app_context():
        (action,) = db.session.scalars(select(CorrectiveAction)).all()
        assert (action.location_id, action.channel, action.visit_id, action.question_key) == (lid, None, None, "q4")


@pytest.mark.parametrize("path", ["targets", "self-assessments", "perception-gap", "actions", "improvement"])
def test_pages_render_for_admin_and_client(app, world, login_as, path):
    cid = world.ids["client_a"]
    assert login_as("client").get(f"/clients/{cid}/{path}").status_code == 200
    assert login_as("admin").get(f"/clients/{cid}/{path}").status_code == 200
    assert login_as("other_client").get(f"/clients/{cid}/{path}").status_code == 404


def test_dashboard_and_reports_show_targets_met_or_not(app, world, login_as):
    with app.app_context():
        here = factories.make_location(db.session.merge(world.client_a))
        _two_visits(world, location=here)
        operations.set_target(world.ids["client_a"], None, dimension="overall", channel=None, value=70,
                              applies_from=TODAY - timedelta(1))
        operations.set_target(world.ids["client_a"], None, dimension="reachability", channel="phone", value=70,
                              applies_from=TODAY - timedelta(1))
        db.session.commit()
        lid = here.id
    cid = world.ids["client_a"]
    browser = login_as("client")
    for url in ("/dashboard", f"/reports/locations/{lid}", f"/reports/clients/{cid}/channels/phone",
                f"/reports/clients/{cid}/summary"):
        page = browser.get(url).get_data(as_text=True)
        assert 'id="targets"' in page, url
        assert "target-missed" in page and "-3.3" in page, url  # overall 66.7 against 70
        assert "+5.0" in page, url  # the phone's reachability 75.0 against 70


def test_client_summary_pdf_has_the_perception_gap_and_the_actions(app, world):
    import io

    from pypdf import PdfReader

    from audit_app.reports.operations import build_report
    from audit_app.reports.rendering import render_pdf

    with app.app_context():
        version, failed, _good = _two_visits(world)
        _self(world, version, GOOD)
        action = _action_on(world, failed)
        action.due_on = TODAY - timedelta(days=1)
        operations.move_action(action, _user(world), "in_progress")  # overdue: past due and not done
        db.session.commit()
        report = build_report("client", world.ids["client_a"], "", TODAY - timedelta(30), TODAY, "en")
        assert [g["channel"] for g in report.improvement["gap"]] == ["phone"]
        assert report.improvement["counts"] == {"open": 1, "overdue": 1, "verified": 0, "done": 0}
        assert queries.action_counts(world.ids["client_a"], TODAY)["unfinished"] == 1  # the overview's "Open"
        pdf = render_pdf(report)
        if os.environ.get("IMPROVEMENT_SHOTS"):
            Path(os.environ["IMPROVEMENT_SHOTS"], "summary.pdf").write_bytes(pdf)
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    # rendered outside a request: in Finnish, the default language
    assert "Näkemysero" in text and "+33.3" in text and "+50.0" in text
    assert "Korjaavat toimenpiteet" in text and "Ask for identity" in text and "myöhässä" in text
    # no self-assessment and no action: neither page
    with app.app_context():
        report = build_report("client", world.ids["client_b"], "", TODAY - timedelta(30), TODAY, "en")
        assert report.improvement["gap"] == [] and report.improvement["actions"] == []


def test_actions_export_as_csv_and_xlsx_with_the_lists_filters(app, world, login_as):
    import csv
    import io

    from openpyxl import load_workbook

    with app.app_context():
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator))
        action = _action_on(world, visit, done=False)
        action.what = "=HYPERLINK(evil)"
        second = _action_on(world, visit)
        second.what = "Train the staff"
        db.session.commit()
    cid = world.ids["client_a"]
    browser = login_as("client")
    response = browser.get(f"/clients/{cid}/actions.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3 and {r[0] for r in rows[1:]} == {"'=HYPERLINK(evil)", "Train the staff"}
    done_only = browser.get(f"/clients/{cid}/actions.xlsx?status=done")
    sheet = load_workbook(io.BytesIO(done_only.data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Train the staff"]
    assert login_as("other_client").get(f"/clients/{cid}/actions.csv").status_code == 404
    assert browser.get(f"/clients/{cid}/actions.pdf").status_code == 404


def test_manager_adds_a_photo_of_the_fix(app, world, login_as):
    import io

    with app.app_context():
        _user(world).manager = True
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator))
        aid = _action_on(world, visit).id
        db.session.commit()
    browser = login_as("client")
    response = browser.post(f"/actions/{aid}/photos", {"file": (io.BytesIO(factories.rotated_jpeg_with_gps()), "fix.jpg"),
                                                       "caption": "New ID sign at the desk"},
                            content_type="multipart/form-data")
    assert response.status_code == 302
    page = browser.get(f"/actions/{aid}").get_data(as_text=True)
    assert "New ID sign at the desk" in page
    with app.app_context():
        from PIL import Image

        from audit_app.evidence.storage import get_storage
        from audit_app.improvement.models import ActionPhoto

        (photo,) = db.session.scalars(select(ActionPhoto)).all()
        pid = photo.id
        stored = Image.open(io.BytesIO(get_storage().get(photo.storage_key)))
        assert not stored.getexif()  # metadata (GPS included) stripped by the evidence pipeline
    thumb = browser.get(f"/action-photos/{pid}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert login_as("other_client").get(f"/action-photos/{pid}/thumb").status_code == 404
    assert login_as("evaluator").get(f"/action-photos/{pid}/thumb").status_code == 403
    # not an image: a clear refusal, nothing stored
    response = browser.post(f"/actions/{aid}/photos", {"file": (io.BytesIO(b"not an image"), "x.jpg")},
                            content_type="multipart/form-data")
    assert response.status_code == 400
    assert browser.post(f"/actions/{aid}/photos", {}).status_code == 400
    with app.app_context():
        assert len(db.session.scalars(select(ActionPhoto)).all()) == 1


def test_photo_of_the_fix_while_the_storage_is_down_is_a_503(app, world, login_as, monkeypatch):
    import io

    from audit_app.evidence import storage as evidence_storage
    from audit_app.improvement import action_views

    with app.app_context():
        _user(world).manager = True
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator))
        aid = _action_on(world, visit).id
        db.session.commit()

    class Down:
        def put(self, *args, **kwargs):
            raise evidence_storage.StorageUnavailable("down")

        def delete(self, key):
            raise evidence_storage.StorageUnavailable("down")

    monkeypatch.setattr(action_views, "get_storage", lambda: Down())
    response = login_as("client").post(f"/actions/{aid}/photos", {"file": (io.BytesIO(factories.jpeg_bytes()), "f.jpg")},
                                       content_type="multipart/form-data")
    assert response.status_code == 503


def test_photo_of_the_fix_past_the_upload_limit_is_a_413(app, world, login_as, monkeypatch):
    import io

    with app.app_context():
        _user(world).manager = True
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator))
        aid = _action_on(world, visit).id
        db.session.commit()
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    response = login_as("client").post(f"/actions/{aid}/photos", {"file": (io.BytesIO(b"x" * (1024 * 1024 + 1)), "f.jpg")},
                                       content_type="multipart/form-data")
    assert response.status_code == 413 and "1 Mt" in response.get_data(as_text=True)
