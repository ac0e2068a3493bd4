"""Rollups (issue 20): every dashboard and period-report figure read from the rollups equals the figure
computed from the visits themselves, on random data with approvals, withdrawals and corrections in
between; the rebuild command is idempotent."""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import factories

TODAY = date.today()
_names = itertools.count()

visit_spec = st.fixed_dictionaries({
    "channel": st.sampled_from(["phone", "in_person", "chat"]),
    "location": st.integers(0, 2),  # 0: none
    "days_ago": st.integers(0, 500),
    "answers": st.fixed_dictionaries({
        "q1": st.booleans(), "q2": st.integers(0, 12), "q3": st.one_of(st.none(), st.integers(1, 5)),
        "q4": st.booleans(), "q5": st.booleans()}),
    # what happens to it: stays submitted; approved; approved, withdrawn, corrected and approved again;
    # approved then withdrawn; a calibration visit
    "path": st.sampled_from(["submitted", "approved", "rework", "withdrawn", "calibration"]),
    "fix": st.tuples(st.sampled_from(["q1", "q4", "q5"]), st.booleans()),
    "version": st.integers(0, 1),
})


def _approve(visit):
    from audit_app.visits.operations import transition

    transition(visit, "approved", action="approved")


def _make(world, specs, monkeypatch):
    from audit_app.accounts import operations as accounts
    from audit_app.accounts.models import User
    from audit_app.checklists.models import Question
    from audit_app.extensions import db
    from audit_app.submissions.operations import correct_answer
    from audit_app.visits import operations as visits_ops

    # a withdrawal of an approval: the status machine has none today; the rollups must follow one anyway
    monkeypatch.setitem(visits_ops.TRANSITIONS, "approved", frozenset({"submitted"}))
    evaluator = db.session.get(User, world.ids["evaluator"])
    admin = db.session.get(User, world.ids["admin"])
    client = accounts.create_client(f"Rollup client {next(_names)}")
    versions = [factories.make_version(), factories.make_version()]
    locs = [None, factories.make_location(client, name="North", region="Pohjois"),
            factories.make_location(client, name="South", region="Etelä")]
    for s in specs:
        version = versions[s["version"]]
        v = factories.make_scored_visit(client, evaluator, version=version, answers=s["answers"], status="submitted",
                                        channel=s["channel"], location=locs[s["location"]],
                                        visited_on=TODAY - timedelta(days=s["days_ago"]))
        if s["path"] in ("submitted", "calibration"):
            v.calibration = s["path"] == "calibration"  # never approved (the quality package refuses it)
            continue
        _approve(v)
        if s["path"] in ("rework", "withdrawn"):
            visits_ops.transition(v, "submitted", action="status")
            if s["path"] == "rework":
                key, value = s["fix"]
                q = db.session.scalar(select(Question).where(Question.version_id == version.id, Question.key == key))
                correct_answer(v, q, admin, value=value, na=False, reason="Checked the recording.")
                _approve(v)
    db.session.flush()
    return client, versions, locs


def _expected(f):
    """The figures computed from the visits, the slow way."""
    from audit_app.checklists.models import Question
    from audit_app.extensions import db
    from audit_app.submissions.models import Answer
    from audit_app.visits.models import Location, Visit, VisitDimensionScore

    def visits(start, end):
        q = select(Visit).where(Visit.client_id == f.client_id, Visit.status == "approved",
                                Visit.calibration.is_(False), Visit.score_overall.is_not(None),
                                Visit.visited_on >= start, Visit.visited_on <= end)
        if f.location_id:
            q = q.where(Visit.location_id == f.location_id)
        if f.channel:
            q = q.where(Visit.channel == f.channel)
        if f.version_id:
            q = q.where(Visit.checklist_version_id == f.version_id)
        if f.region:
            q = q.where(Visit.location_id.in_(select(Location.id).where(Location.region == f.region)))
        return db.session.scalars(q).all()

    def mean(xs):
        return (sum(xs) / len(xs), len(xs)) if xs else (None, 0)

    now, before = visits(f.start, f.end), visits(f.previous().start, f.previous().end)
    out = {"overall": mean([v.score_overall for v in now]), "previous": mean([v.score_overall for v in before]),
           "critical": sum(1 for v in now if v.score_critical_fail)}
    for name, key in (("locations", lambda v: v.location_id), ("channels", lambda v: v.channel)):
        groups: dict = {}
        for v in now:
            if key(v) is not None:
                groups.setdefault(key(v), []).append(v.score_overall)
        out[name] = {k: mean(xs) for k, xs in groups.items()}
    dims: dict = {}
    ids = [v.id for v in now]
    for d, s in db.session.execute(select(VisitDimensionScore.dimension, VisitDimensionScore.score).where(
            VisitDimensionScore.visit_id.in_(ids), VisitDimensionScore.score.is_not(None))):
        dims.setdefault(d, []).append(s)
    out["dimensions"] = {d: mean(xs) for d, xs in dims.items()}
    failed = dict(db.session.execute(
        select(Question.key, func.count()).join(Answer, Answer.question_id == Question.id)
        .where(Answer.visit_id.in_(ids), Answer.failed.is_(True)).group_by(Question.key)).all())
    out["failed"] = failed
    sections: dict = {}
    for v in now:
        for s in (v.score_data or {}).get("sections", ()):
            if s.get("score") is not None:
                sections.setdefault(s["key"], []).append(s["score"])
    out["sections"] = {k: mean(xs) for k, xs in sections.items()}
    months: dict = {}
    from audit_app.reports.queries.dashboard import _trend_start

    for v in visits(_trend_start(f), f.end):
        months.setdefault(v.visited_on.strftime("%Y-%m"), []).append(v.score_overall)
    out["trend"] = {m: mean(xs) for m, xs in months.items()}
    return out


def _close(a, b):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _check(f):
    from audit_app.reports import queries

    want = _expected(f)
    got = queries.dashboard(f, "en")
    assert got["overall"]["n"] == want["overall"][1]
    assert _close(got["overall"]["score"], want["overall"][0])
    assert _close(got["overall"]["previous"], want["previous"][0])
    assert got["previous_n"] == want["previous"][1]
    assert got["critical_visits"] == want["critical"]
    assert {r["id"]: (r["score"], r["n"]) for r in got["locations"]}.keys() == want["locations"].keys()
    for r in got["locations"]:
        assert _close(r["score"], want["locations"][r["id"]][0]) and r["n"] == want["locations"][r["id"]][1]
    assert {r["code"] for r in got["channels"]} == set(want["channels"])
    for r in got["channels"]:
        assert _close(r["score"], want["channels"][r["code"]][0]) and r["n"] == want["channels"][r["code"]][1]
    dims = {d["code"]: d for d in got["dimensions"] if d["n"]}
    assert set(dims) == set(want["dimensions"])
    for code, d in dims.items():
        assert _close(d["score"], want["dimensions"][code][0]) and d["n"] == want["dimensions"][code][1]
    assert {p["month"]: p["n"] for p in got["trend"]} == {m: n for m, (_s, n) in want["trend"].items()}
    for p in got["trend"]:
        assert _close(p["score"], want["trend"][p["month"]][0])
    assert {i["key"]: i["failed"] for i in got["most_failed"]} == dict(
        sorted(want["failed"].items(), key=lambda kv: (-kv[1], kv[0]))[:len(got["most_failed"])])
    report = queries.period_report("client", f, "en", "")
    sections = {s["key"]: s for s in report.sections if s["n"]}
    assert set(sections) == set(want["sections"])
    for key, s in sections.items():
        assert _close(s["score"], want["sections"][key][0]) and s["n"] == want["sections"][key][1]
    heat = {row["overall"].get("id") or row["overall"].get("code"): row for row in report.heatmap}
    assert set(heat) == set(want["locations"]) | set(want["channels"])


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs=st.lists(visit_spec, min_size=1, max_size=14), start_ago=st.integers(0, 400),
       length=st.integers(1, 200), pick=st.integers(0, 5))
def test_every_dashboard_figure_from_rollups_equals_the_figure_from_the_visits(
        app, world, monkeypatch, specs, start_ago, length, pick):
    from audit_app.extensions import db
    from audit_app.reports import queries

    with app.test_request_context():
        client, versions, locs = _make(world, specs, monkeypatch)
        start = TODAY - timedelta(days=start_ago)
        base = queries.Filters(client_id=client.id, start=start, end=start + timedelta(days=length))
        variants = [base, queries.Filters(client_id=client.id, start=TODAY - timedelta(days=600), end=TODAY),
                    queries.Filters(**{**base.__dict__, "location_id": locs[1].id}),
                    queries.Filters(**{**base.__dict__, "region": "Etelä"}),
                    queries.Filters(**{**base.__dict__, "channel": "phone"}),
                    queries.Filters(**{**base.__dict__, "version_id": versions[1].id})]
        _check(variants[0])
        _check(variants[1])
        _check(variants[pick])
        db.session.rollback()


def test_rebuild_command_is_idempotent_and_restores_lost_rollups(app, world, monkeypatch):
    from audit_app.extensions import db
    from audit_app.reports.rollup_models import QuestionRollup, ScoreRollup, VisitRollup

    specs = [{"channel": c, "location": i % 3, "days_ago": d, "answers": factories.WORKED_EXAMPLE, "path": p,
              "fix": ("q4", True), "version": i % 2}
             for i, (c, d, p) in enumerate([("phone", 3, "approved"), ("in_person", 40, "rework"),
                                            ("chat", 400, "approved"), ("phone", 3, "withdrawn"),
                                            ("phone", 5, "calibration"), ("phone", 6, "submitted")])]

    def snapshot():
        return {t.__tablename__: sorted(
            tuple(getattr(r, c.key) for c in t.__table__.columns if c.key != "id")
            for r in db.session.scalars(select(t))) for t in (VisitRollup, ScoreRollup, QuestionRollup)}

    with app.test_request_context():
        _make(world, specs, monkeypatch)
        db.session.commit()
        kept = snapshot()
        # three approved visits counted: a day and a month row each, at three levels (the fine row, every
        # location's total per channel, every channel's total per location)
        assert len(kept["rollup_visits"]) == 18
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["reports", "rebuild-rollups"])
        assert result.exit_code == 0, result.output
        assert "from 3 approved visits" in result.output
        with app.app_context():
            assert snapshot() == kept
    with app.app_context():
        db.session.execute(VisitRollup.__table__.delete())
        db.session.commit()
    assert runner.invoke(args=["reports", "rebuild-rollups", "--client", "Nobody"]).exit_code != 0
    assert runner.invoke(args=["reports", "rebuild-rollups"]).exit_code == 0
    with app.app_context():
        assert snapshot() == kept


@pytest.mark.parametrize("a,b", [(date(2026, 1, 15), date(2026, 4, 10)), (date(2026, 1, 1), date(2026, 3, 31)),
                                 (date(2026, 2, 3), date(2026, 2, 20)), (date(2025, 12, 31), date(2026, 1, 1))])
def test_a_period_is_covered_by_whole_months_and_edge_days_exactly_once(a, b):
    from audit_app.reports.queries.rollup_reads import segments

    covered = []
    for grain, lo, hi in segments(a, b):
        d = lo
        while d <= hi:
            covered.append(d)
            d += timedelta(days=1)
        if grain == "m":
            assert lo.day == 1 and (hi + timedelta(days=1)).day == 1
    assert covered == [a + timedelta(days=i) for i in range((b - a).days + 1)]
