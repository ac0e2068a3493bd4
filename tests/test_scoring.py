"""Tests of the scoring rules (DESIGN.md section 4): hand-computed tables plus properties.

Pure: no Flask, no database.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from audit_app.scoring import (
    CHANNELS,
    DEFAULT_GRADE_BANDS,
    DIMENSIONS,
    KINDS,
    SCORED_KINDS,
    Aggregate,
    Answer,
    AnswerError,
    ChecklistSpec,
    GradeBand,
    QuestionSpec,
    SectionSpec,
    VisitScore,
    aggregate,
    check_answer,
    display,
    fraction,
    grade,
    missing_required,
    round_half_away,
    score_visit,
)

Q = QuestionSpec
S = SectionSpec
A = Answer
NA = Answer(na=True)
YES = Answer(True)
NO = Answer(False)

WAIT_BANDS = ((2, 1.0), (5, 0.5), (10, 0.25))  # lower is better: minutes waited


def checklist(*sections: SectionSpec, scope: str = "section") -> ChecklistSpec:
    return ChecklistSpec(tuple(sections), critical_scope=scope)


# --- the worked example of DESIGN.md section 4 ---------------------------------------------------

WORKED_SPEC = checklist(
    S(
        "a",
        "reachability",
        2,
        (
            Q("q1", "yes_no"),
            Q("q2", "number", weight=2, bands=WAIT_BANDS),
            Q("q3", "scale", allow_na=True),
        ),
    ),
    S("b", "privacy", 1, (Q("q4", "yes_no", critical=True), Q("q5", "yes_no"))),
)
WORKED_ANSWERS = {"q1": YES, "q2": A(7), "q3": NA, "q4": NO, "q5": YES}


def test_worked_example() -> None:
    v = score_visit(WORKED_SPEC, WORKED_ANSWERS)
    a, b = v.sections
    # S_A = 100 × (1·1 + 2·0.25) / (1 + 2) = 100 × 1.5 / 3 = 50.0 (q3 N/A excluded)
    assert a.score == 50.0
    assert not a.critical_fail
    # S_B = 0: critical q4 answered "no" fails; q5's "yes" does not help
    assert b.score == 0.0
    assert b.critical_fail
    assert v.critical_fail
    # V = (2 × 50 + 1 × 0) / (2 + 1) = 33.33…
    assert v.overall == pytest.approx(100 / 3)
    assert display(v.overall) == "33.3"
    assert v.dimensions == {"reachability": 50.0, "privacy": 0.0}
    assert display(v.dimensions["reachability"]) == "50.0"
    assert display(v.dimensions["privacy"]) == "0.0"
    assert v.failed == ("q4",)
    q1, q2, q3 = a.questions
    assert (q1.fraction, q2.fraction, q3.fraction) == (1.0, 0.25, None)
    assert (q1.included, q2.included, q3.included) == (True, True, False)
    assert b.questions[0].critical_failed and b.questions[0].failed
    assert not b.questions[1].failed
    assert grade(v.overall) == "poor"


def test_worked_example_visit_scope() -> None:
    spec = dataclasses.replace(WORKED_SPEC, critical_scope="visit")
    v = score_visit(spec, WORKED_ANSWERS)
    # critical_scope "visit": V = 0; the section scores stay as in the section-scope case
    assert v.overall == 0.0
    assert v.critical_fail
    assert [s.score for s in v.sections] == [50.0, 0.0]
    assert v.dimensions == {"reachability": 50.0, "privacy": 0.0}


# --- fraction of one answer ----------------------------------------------------------------------

CHOICE = Q("c", "choice", options=(("great", 1.0), ("ok", 0.5), ("bad", 0.0)))
WAIT = Q("w", "number", bands=WAIT_BANDS)
HIGHER_BETTER = Q("h", "number", bands=((0, 0.0), (3, 0.5)), above=1.0)


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        # yes_no: 1 when the answer equals the good answer
        (Q("y", "yes_no"), YES, 1.0),
        (Q("y", "yes_no"), NO, 0.0),
        (Q("y", "yes_no", good_answer=False), NO, 1.0),  # "was sensitive data asked?" no is good
        (Q("y", "yes_no", good_answer=False), YES, 0.0),
        # scale: (v − min) / (max − min)
        (Q("s", "scale"), A(1), 0.0),  # (1−1)/4
        (Q("s", "scale"), A(3), 0.5),  # (3−1)/4
        (Q("s", "scale"), A(4), 0.75),  # (4−1)/4
        (Q("s", "scale"), A(5), 1.0),  # (5−1)/4
        (Q("s", "scale", scale_min=0, scale_max=10), A(7), 0.7),  # (7−0)/10
        (Q("s", "scale", scale_min=-2, scale_max=2), A(0), 0.5),  # (0+2)/4
        # choice: the option's fraction
        (CHOICE, A("great"), 1.0),
        (CHOICE, A("ok"), 0.5),
        (CHOICE, A("bad"), 0.0),
        # number, lower is better: first band with v ≤ upto, else above (default 0)
        (WAIT, A(0), 1.0),
        (WAIT, A(-1), 1.0),
        (WAIT, A(2), 1.0),  # 2 ≤ 2
        (WAIT, A(2.01), 0.5),  # 2.01 ≤ 5
        (WAIT, A(5), 0.5),
        (WAIT, A(7), 0.25),  # 7 ≤ 10
        (WAIT, A(10.0), 0.25),
        (WAIT, A(10.5), 0.0),  # above every band → above = 0
        (WAIT, A(Decimal("3.5")), 0.5),
        (dataclasses.replace(WAIT, above=0.1), A(11), 0.1),
        # number, higher is better
        (HIGHER_BETTER, A(-1), 0.0),
        (HIGHER_BETTER, A(0), 0.0),
        (HIGHER_BETTER, A(3), 0.5),
        (HIGHER_BETTER, A(4), 1.0),  # above every band → above = 1
        # bands given out of order are sorted by upto
        (Q("n", "number", bands=((10, 0.25), (2, 1.0), (5, 0.5))), A(4), 0.5),
        (Q("n", "number", above=0.3), A(1), 0.3),  # no bands at all: always above
        # excluded or unscored → None
        (Q("s", "scale", allow_na=True), NA, None),
        (Q("y", "yes_no"), A(None), None),
        (Q("y", "yes_no"), None, None),
        (Q("t", "text"), A("friendly staff"), None),
        (Q("p", "photo"), A("evidence/1.jpg"), None),
    ],
)
def test_fraction(question: QuestionSpec, answer: Answer | None, expected: float | None) -> None:
    result = fraction(question, answer)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)
        assert isinstance(result, float)


def test_fraction_rejects_an_answer_that_does_not_fit() -> None:
    with pytest.raises(AnswerError) as info:
        fraction(CHOICE, A("maybe"))
    assert info.value.code == "unknown_option"
    with pytest.raises(AnswerError):
        score_visit(checklist(S("s", "empathy", 1, (CHOICE,))), {"c": A("maybe")})


# --- check_answer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "answer", "code"),
    [
        (Q("y", "yes_no"), YES, None),
        (Q("y", "yes_no"), A(None), None),  # empty is fine here; see missing_required
        (Q("y", "yes_no"), NA, "na_not_allowed"),
        (Q("y", "yes_no", allow_na=True), NA, None),
        (Q("y", "yes_no", allow_na=True), A("ignored", na=True), None),
        (Q("y", "yes_no"), A(1), "wrong_type"),
        (Q("y", "yes_no"), A("yes"), "wrong_type"),
        (Q("s", "scale"), A(1), None),
        (Q("s", "scale"), A(5), None),
        (Q("s", "scale"), A(0), "out_of_range"),
        (Q("s", "scale"), A(6), "out_of_range"),
        (Q("s", "scale"), A(True), "wrong_type"),  # bool is not an int here
        (Q("s", "scale"), A(3.0), "wrong_type"),
        (Q("s", "scale"), A("3"), "wrong_type"),
        (CHOICE, A("ok"), None),
        (CHOICE, A("maybe"), "unknown_option"),
        (CHOICE, A(1), "wrong_type"),
        (WAIT, A(0), None),
        (WAIT, A(-3.5), None),  # any finite real number
        (WAIT, A(10**30), None),
        (WAIT, A(Decimal("2.5")), None),
        (WAIT, A(float("nan")), "not_finite"),
        (WAIT, A(float("inf")), "not_finite"),
        (WAIT, A(float("-inf")), "not_finite"),
        (WAIT, A(Decimal("NaN")), "not_finite"),
        (WAIT, A(True), "wrong_type"),
        (WAIT, A("7"), "wrong_type"),
        (Q("t", "text"), A("fine"), None),
        (Q("t", "text"), A(3), "wrong_type"),
        (Q("t", "text"), NA, "na_not_allowed"),
        (Q("p", "photo"), A({"id": 3}), None),  # photo values are ignored
    ],
)
def test_check_answer(question: QuestionSpec, answer: Answer, code: str | None) -> None:
    if code is None:
        check_answer(question, answer)
    else:
        with pytest.raises(AnswerError) as info:
            check_answer(question, answer)
        assert info.value.code == code
        assert info.value.message and str(info.value) == info.value.message
        assert info.value.key == question.key
        assert isinstance(info.value, ValueError)


# --- whole visits --------------------------------------------------------------------------------

TWO_DIMENSIONS = checklist(
    S("e1", "empathy", 1, (Q("e1q", "yes_no"),)),
    S("e2", "empathy", 3, (Q("e2q", "yes_no"),)),
    S("t1", "transparency", 1, (Q("t1q", "scale"),)),
)
MIXED = checklist(
    S(
        "m",
        "effortlessness",
        1,
        (
            Q("sc", "scale", weight=2),
            Q("ch", "choice", weight=1, options=(("one_contact", 1.0), ("two", 0.4), ("never", 0.0))),
            Q("nu", "number", weight=1, bands=((1, 1.0), (3, 0.5))),
            Q("tx", "text", required=False),
            Q("ph", "photo", required=False),
        ),
    )
)


@pytest.mark.parametrize(
    ("spec", "answers", "channel", "sections", "overall", "dimensions", "critical", "failed"),
    [
        pytest.param(
            # 100 × (3·1 + 1·0) / (3 + 1) = 75
            checklist(S("s", "empathy", 1, (Q("a", "yes_no", weight=3), Q("b", "yes_no")))),
            {"a": YES, "b": NO},
            None,
            [75.0],
            75.0,
            {"empathy": 75.0},
            False,
            ("b",),
            id="question-weights",
        ),
        pytest.param(
            # sc (4−1)/4 = 0.75 w2, ch "two" 0.4 w1, nu 2 ≤ 3 → 0.5 w1; text and photo never count
            # 100 × (2·0.75 + 0.4 + 0.5) / 4 = 100 × 2.4 / 4 = 60
            MIXED,
            {"sc": A(4), "ch": A("two"), "nu": A(2), "tx": A("long wait"), "ph": A("p.jpg")},
            None,
            [60.0],
            60.0,
            {"effortlessness": 60.0},
            False,
            (),
            id="every-kind",
        ),
        pytest.param(
            # sc 1 → 0 (failed), ch "never" → 0 (failed), nu 9 > 3 → above 0 (failed): 0 / 4
            MIXED,
            {"sc": A(1), "ch": A("never"), "nu": A(9)},
            None,
            [0.0],
            0.0,
            {"effortlessness": 0.0},
            False,
            ("sc", "ch", "nu"),
            id="every-kind-failed",
        ),
        pytest.param(
            # phone-only IVR question excluded on in_person: 100 × 1 / 1 = 100
            checklist(S("s", "reachability", 1, (Q("a", "yes_no"), Q("ivr", "yes_no", channels={"phone"})))),
            {"a": YES, "ivr": NO},
            "in_person",
            [100.0],
            100.0,
            {"reachability": 100.0},
            False,
            (),
            id="channel-excluded",
        ),
        pytest.param(
            # on the phone it counts: 100 × (1 + 0) / 2 = 50
            checklist(S("s", "reachability", 1, (Q("a", "yes_no"), Q("ivr", "yes_no", channels={"phone"})))),
            {"a": YES, "ivr": NO},
            "phone",
            [50.0],
            50.0,
            {"reachability": 50.0},
            False,
            ("ivr",),
            id="channel-included",
        ),
        pytest.param(
            # no channel given: every question applies: 100 × 1 / 2 = 50
            checklist(S("s", "reachability", 1, (Q("a", "yes_no"), Q("ivr", "yes_no", channels={"phone"})))),
            {"a": YES, "ivr": NO},
            None,
            [50.0],
            50.0,
            {"reachability": 50.0},
            False,
            ("ivr",),
            id="no-channel",
        ),
        pytest.param(
            # optional unanswered excluded: 100 × 0.5 / 1 = 50
            checklist(S("s", "empathy", 1, (Q("a", "scale"), Q("b", "yes_no", required=False)))),
            {"a": A(3)},
            None,
            [50.0],
            50.0,
            {"empathy": 50.0},
            False,
            (),
            id="optional-unanswered",
        ),
        pytest.param(
            # a required question left unanswered is excluded when scoring (submission blocks it)
            checklist(S("s", "empathy", 1, (Q("a", "scale"), Q("b", "yes_no")))),
            {"a": A(5), "b": A(None)},
            None,
            [100.0],
            100.0,
            {"empathy": 100.0},
            False,
            (),
            id="required-unanswered",
        ),
        pytest.param(
            # section "x" all N/A drops out: V = (1 × 80) / 1 = 80; no empathy dimension
            # section "y": 100 × (4·1 + 1·0) / 5 = 80
            checklist(
                S("x", "empathy", 5, (Q("xa", "yes_no", allow_na=True),)),
                S("y", "privacy", 1, (Q("ya", "yes_no", weight=4), Q("yb", "yes_no"))),
            ),
            {"xa": NA, "ya": YES, "yb": NO},
            None,
            [None, 80.0],
            80.0,
            {"privacy": 80.0},
            False,
            ("yb",),
            id="empty-section-drops-out",
        ),
        pytest.param(
            # only text and photo questions: nothing to score at all
            checklist(S("x", "empathy", 1, (Q("t", "text"), Q("p", "photo")))),
            {"t": A("nice"), "p": A("p.jpg")},
            None,
            [None],
            None,
            {},
            False,
            (),
            id="unscored-only",
        ),
        pytest.param(
            checklist(),
            {},
            "web",
            [],
            None,
            {},
            False,
            (),
            id="no-sections",
        ),
        pytest.param(
            # empathy: (1 × 100 + 3 × 0) / 4 = 25; transparency (4−1)/4 = 75
            # V = (1 × 100 + 3 × 0 + 1 × 75) / 5 = 35
            TWO_DIMENSIONS,
            {"e1q": YES, "e2q": NO, "t1q": A(4)},
            None,
            [100.0, 0.0, 75.0],
            35.0,
            {"empathy": 25.0, "transparency": 75.0},
            False,
            ("e2q",),
            id="dimension-weighted-means",
        ),
        pytest.param(
            # critical failed (section scope): S_p = 0 though the other answers are good;
            # V = (1 × 100 + 1 × 0) / 2 = 50
            checklist(
                S("e", "empathy", 1, (Q("ea", "yes_no"),)),
                S("p", "privacy", 1, (Q("pa", "yes_no", critical=True), Q("pb", "scale", weight=9))),
            ),
            {"ea": YES, "pa": NO, "pb": A(5)},
            None,
            [100.0, 0.0],
            50.0,
            {"empathy": 100.0, "privacy": 0.0},
            True,
            ("pa",),
            id="critical-section-scope",
        ),
        pytest.param(
            # same answers, visit scope: V = 0; sections and dimensions as computed
            checklist(
                S("e", "empathy", 1, (Q("ea", "yes_no"),)),
                S("p", "privacy", 1, (Q("pa", "yes_no", critical=True), Q("pb", "scale", weight=9))),
                scope="visit",
            ),
            {"ea": YES, "pa": NO, "pb": A(5)},
            None,
            [100.0, 0.0],
            0.0,
            {"empathy": 100.0, "privacy": 0.0},
            True,
            ("pa",),
            id="critical-visit-scope",
        ),
        pytest.param(
            # visit scope, critical passed: 100 × (1 + 9·0.5) / 10 = 55; V = (100 + 55) / 2 = 77.5
            checklist(
                S("e", "empathy", 1, (Q("ea", "yes_no"),)),
                S("p", "privacy", 1, (Q("pa", "yes_no", critical=True), Q("pb", "scale", weight=9))),
                scope="visit",
            ),
            {"ea": YES, "pa": YES, "pb": A(3)},
            None,
            [100.0, 55.0],
            77.5,
            {"empathy": 100.0, "privacy": 55.0},
            False,
            (),
            id="critical-passed-visit-scope",
        ),
        pytest.param(
            # critical answered N/A: not failed, excluded: 100 × 0.5 / 1 = 50
            checklist(
                S("p", "privacy", 1, (Q("pa", "yes_no", critical=True, allow_na=True), Q("pb", "scale"))),
                scope="visit",
            ),
            {"pa": NA, "pb": A(3)},
            None,
            [50.0],
            50.0,
            {"privacy": 50.0},
            False,
            (),
            id="critical-na",
        ),
        pytest.param(
            # critical question for the phone only, failed, but the visit is by email: excluded
            checklist(
                S(
                    "p",
                    "privacy",
                    1,
                    (Q("pa", "yes_no", critical=True, channels={"phone"}), Q("pb", "scale")),
                ),
                scope="visit",
            ),
            {"pa": NO, "pb": A(5)},
            "email",
            [100.0],
            100.0,
            {"privacy": 100.0},
            False,
            (),
            id="critical-other-channel",
        ),
        pytest.param(
            # critical choice option with fraction 0 fails; critical scale at its minimum fails
            checklist(
                S("a", "empathy", 2, (Q("ca", "choice", critical=True, options=(("x", 0.0), ("y", 1.0))),)),
                S("b", "empathy", 1, (Q("cb", "scale", critical=True), Q("ok", "yes_no"))),
                S("c", "privacy", 1, (Q("cc", "number", critical=True, bands=((5, 0.2),)),)),
            ),
            {"ca": A("x"), "cb": A(1), "ok": YES, "cc": A(5)},
            None,
            # a 0, b 0 (critical), c 100 × 0.2 = 20; V = (2·0 + 1·0 + 1·20) / 4 = 5
            [0.0, 0.0, 20.0],
            5.0,
            {"empathy": 0.0, "privacy": 20.0},
            True,
            ("ca", "cb"),
            id="critical-kinds",
        ),
        pytest.param(
            # answers for unknown keys are ignored
            checklist(S("s", "web_sec", 1, (Q("a", "yes_no"),))),
            {"a": YES, "zzz": NO},
            None,
            [100.0],
            100.0,
            {"web_sec": 100.0},
            False,
            (),
            id="custom-dimension-extra-answers",
        ),
    ],
)
def test_score_visit(
    spec: ChecklistSpec,
    answers: dict[str, Answer],
    channel: str | None,
    sections: list[float | None],
    overall: float | None,
    dimensions: dict[str, float],
    critical: bool,
    failed: tuple[str, ...],
) -> None:
    v = score_visit(spec, answers, channel)
    assert [s.score for s in v.sections] == pytest.approx(sections)
    assert [s.key for s in v.sections] == [s.key for s in spec.sections]
    if overall is None:
        assert v.overall is None
    else:
        assert v.overall == pytest.approx(overall)
    assert v.dimensions == pytest.approx(dimensions)
    assert list(v.dimensions) == list(dimensions)
    assert v.critical_fail is critical
    assert any(s.critical_fail for s in v.sections) is critical
    assert v.failed == failed


def test_question_scores_explain_exclusion() -> None:
    v = score_visit(MIXED, {"sc": A(2), "ch": A("never")}, "chat")
    by_key = {q.key: q for q in v.sections[0].questions}
    assert list(by_key) == ["sc", "ch", "nu", "tx", "ph"]
    assert by_key["sc"].fraction == 0.25 and by_key["sc"].included and not by_key["sc"].failed
    assert by_key["ch"].fraction == 0.0 and by_key["ch"].failed and not by_key["ch"].critical_failed
    assert by_key["nu"].fraction is None and not by_key["nu"].included  # unanswered
    assert by_key["tx"].fraction is None and not by_key["tx"].included  # never scored
    # 100 × (2·0.25 + 1·0) / 3 = 16.66…
    assert v.sections[0].score == pytest.approx(50 / 3)
    assert display(v.overall) == "16.7"


def test_visit_score_as_dict_round_trips_through_json() -> None:
    v = score_visit(WORKED_SPEC, WORKED_ANSWERS)
    stored = json.loads(json.dumps(v.as_dict()))
    assert stored["overall"] == pytest.approx(100 / 3)
    assert stored["critical_fail"] is True
    assert stored["dimensions"] == {"reachability": 50.0, "privacy": 0.0}
    assert stored["failed"] == ["q4"]
    assert stored["sections"][0]["questions"][2] == {
        "key": "q3",
        "fraction": None,
        "included": False,
        "failed": False,
        "critical_failed": False,
        "shown": True,
    }
    assert VisitScore.from_dict(stored) == v
    # a stored dict feeds aggregate() just like the object
    assert aggregate([stored]) == aggregate([v])


# --- missing_required ----------------------------------------------------------------------------

REQ = checklist(
    S("a", "reachability", 1, (Q("r1", "yes_no"), Q("opt", "yes_no", required=False), Q("txt", "text"))),
    S("b", "privacy", 1, (Q("r2", "scale", allow_na=True), Q("ivr", "number", channels={"phone"}))),
)


@pytest.mark.parametrize(
    ("answers", "channel", "expected"),
    [
        ({}, None, ["r1", "r2", "ivr"]),  # checklist order; optional and text never listed
        ({}, "chat", ["r1", "r2"]),  # the phone-only question does not apply to chat
        ({}, "phone", ["r1", "r2", "ivr"]),
        ({"r1": NO, "r2": NA}, "chat", []),  # "no" and N/A are answers
        ({"r1": A(None), "r2": A(3), "ivr": A(0)}, "phone", ["r1"]),  # value None is unanswered
        ({"r1": YES, "r2": A(1), "ivr": A(12.5)}, None, []),
    ],
)
def test_missing_required(answers: dict[str, Answer], channel: str | None, expected: list[str]) -> None:
    assert missing_required(REQ, answers, channel) == expected


# --- aggregates ----------------------------------------------------------------------------------


def test_aggregate_means_with_counts() -> None:
    worked = score_visit(WORKED_SPEC, WORKED_ANSWERS)  # V 33.33…, reach 50, privacy 0
    visits = [
        worked,
        {"overall": 80.0, "dimensions": {"reachability": 90.0, "empathy": 70.0}},
        {"overall": None, "dimensions": {}},  # nothing scored: not counted
        score_visit(checklist(), {}),  # likewise
    ]
    agg = aggregate(visits)
    # score = (33.33… + 80) / 2 = 56.66…; n = 2
    assert agg.score == pytest.approx((100 / 3 + 80) / 2)
    assert display(agg.score) == "56.7"
    assert agg.n == 2
    # reachability (50 + 90) / 2 = 70 over 2 visits; privacy 0 over 1; empathy 70 over 1
    assert agg.dimensions == {"reachability": (70.0, 2), "privacy": (0.0, 1), "empathy": (70.0, 1)}


def test_aggregate_each_visit_counts_once() -> None:
    # a big visit and a small one weigh the same: (100 + 0) / 2 = 50
    big = checklist(*(S(f"s{i}", "empathy", 1, (Q(f"q{i}", "yes_no"),)) for i in range(10)))
    small = checklist(S("s", "empathy", 1, (Q("q", "yes_no"),)))
    visits = [score_visit(big, {f"q{i}": YES for i in range(10)}), score_visit(small, {"q": NO})]
    assert aggregate(visits) == Aggregate(50.0, 2, {"empathy": (50.0, 2)})


def test_aggregate_of_nothing() -> None:
    assert aggregate([]) == Aggregate(None, 0, {})
    assert aggregate(iter([{"overall": None}])) == Aggregate(None, 0, {})


# --- grades --------------------------------------------------------------------------------------

PASS_FAIL = (GradeBand(0, "fail"), GradeBand(80, "pass"))  # deliberately unsorted
NO_ZERO = (GradeBand(60, "ok"), GradeBand(30, "weak"))


@pytest.mark.parametrize(
    ("score", "bands", "expected"),
    [
        (100.0, DEFAULT_GRADE_BANDS, "excellent"),
        (90.0, DEFAULT_GRADE_BANDS, "excellent"),
        (89.96, DEFAULT_GRADE_BANDS, "good"),  # displays as "90.0", graded unrounded
        (75.0, DEFAULT_GRADE_BANDS, "good"),
        (74.99, DEFAULT_GRADE_BANDS, "needs_improvement"),
        (50.0, DEFAULT_GRADE_BANDS, "needs_improvement"),
        (49.9, DEFAULT_GRADE_BANDS, "poor"),
        (0.0, DEFAULT_GRADE_BANDS, "poor"),
        (None, DEFAULT_GRADE_BANDS, None),
        (80.0, PASS_FAIL, "pass"),
        (79.9, PASS_FAIL, "fail"),
        (None, PASS_FAIL, None),
        (60.0, NO_ZERO, "ok"),
        (30.0, NO_ZERO, "weak"),
        (29.9, NO_ZERO, None),  # below every band
    ],
)
def test_grade(score: float | None, bands: tuple[GradeBand, ...], expected: str | None) -> None:
    assert grade(score, bands) == expected


def test_default_grade_bands() -> None:
    assert [(b.min, b.code) for b in DEFAULT_GRADE_BANDS] == [
        (90, "excellent"),
        (75, "good"),
        (50, "needs_improvement"),
        (0, "poor"),
    ]
    assert grade(89.96) == "good"
    assert display(89.96) == "90.0"


# --- display and rounding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "text", "rounded"),
    [
        (84.25, 1, "84.3", 84.3),  # half away from zero, not to even
        (84.35, 1, "84.4", 84.4),  # the float is 84.3499…; rounded as written
        (0.05, 1, "0.1", 0.1),
        (0.04, 1, "0.0", 0.0),
        (100 / 3, 1, "33.3", 33.3),
        (200 / 3, 1, "66.7", 66.7),
        (100.0, 1, "100.0", 100.0),
        (0.0, 1, "0.0", 0.0),
        (50, 1, "50.0", 50.0),  # an int
        (-0.05, 1, "-0.1", -0.1),  # away from zero on the negative side too
        (-0.04, 1, "0.0", 0.0),  # no "-0.0"
        (84.5, 0, "85", 85.0),
        (83.5, 0, "84", 84.0),
        (1.005, 2, "1.01", 1.01),  # the float is 1.00499…
        (2.675, 2, "2.68", 2.68),
    ],
)
def test_display_and_round_half_away(value: float, digits: int, text: str, rounded: float) -> None:
    assert display(value, digits) == text
    assert round_half_away(value, digits) == rounded


def test_display_none_and_defaults() -> None:
    assert display(None) == "\u2013"
    assert display(84.25) == "84.3"
    assert round_half_away(84.25) == 84.3
    assert display(float("nan")) == "\u2013"


# --- spec validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: Q("q", "stars"),
        lambda: Q("q", "yes_no", weight=0),
        lambda: Q("q", "yes_no", weight=-1),
        lambda: Q("q", "yes_no", weight=float("inf")),
        lambda: Q("q", "scale", scale_min=5, scale_max=5),
        lambda: Q("q", "scale", scale_min=1.5, scale_max=5),
        lambda: Q("q", "choice"),
        lambda: Q("q", "choice", options=(("a", 1.5),)),
        lambda: Q("q", "choice", options=(("a", 1.0), ("a", 0.0))),
        lambda: Q("q", "number", bands=((5, -0.1),)),
        lambda: Q("q", "number", bands=((float("nan"), 1.0),)),
        lambda: Q("q", "number", above=2.0),
        lambda: S("s", "empathy", 0),
        lambda: checklist(scope="client"),
        lambda: checklist(
            S("s", "empathy", 1, (Q("a", "yes_no"),)), S("t", "privacy", 1, (Q("a", "yes_no"),))
        ),
        lambda: checklist(S("s", "empathy"), S("s", "privacy")),
    ],
)
def test_invalid_specs_are_rejected(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_spec_normalisation_and_helpers() -> None:
    q = Q("q", "number", weight=2, channels=["phone", "chat"], bands=[(10, 0.25), (2, 1)])
    assert q.channels == frozenset({"phone", "chat"})
    assert q.bands == ((2.0, 1.0), (10.0, 0.25))
    assert q.scored and not Q("t", "text").scored and not Q("p", "photo").scored
    assert q.applies_to("phone") and q.applies_to(None) and not q.applies_to("email")
    assert Q("a", "yes_no").applies_to("email")
    assert Q("t", "text", weight=0).weight == 0  # unscored kinds carry no weight rule
    assert hash(q) == hash(
        Q("q", "number", weight=2.0, channels={"chat", "phone"}, bands=((2, 1.0), (10, 0.25)))
    )
    assert set(SCORED_KINDS) < set(KINDS)
    assert len(DIMENSIONS) == 5 and len(CHANNELS) == 6


# --- properties ----------------------------------------------------------------------------------

from tests.logic_cases import answer_sets, checklists, questions, values, visits  # noqa: E402,F401


def in_range(value: float | None) -> bool:
    return value is None or 0.0 <= value <= 100.0


def scores_of(v: VisitScore) -> tuple:
    """Everything score-like about a visit, without the per-question detail."""
    return (
        v.overall,
        v.critical_fail,
        [(s.key, s.score, s.critical_fail) for s in v.sections],
        v.dimensions,
        v.failed,
    )


@settings(deadline=None)
@given(visits())
def test_every_score_is_within_0_and_100(case) -> None:
    spec, answers, channel = case
    for question in spec.questions():
        if question.key in answers:
            check_answer(question, answers[question.key])  # the generator makes valid answers
    v = score_visit(spec, answers, channel)
    assert in_range(v.overall)
    assert all(in_range(s.score) for s in v.sections)
    assert all(in_range(d) for d in v.dimensions.values())
    for section in v.sections:
        for q in section.questions:
            assert q.fraction is None or 0.0 <= q.fraction <= 1.0
            assert q.included == (q.fraction is not None)
            assert q.failed == (q.fraction == 0.0)
    scored = [s for s in v.sections if s.score is not None]
    assert (v.overall is None) == (not scored)
    assert set(v.dimensions) == {s.dimension for s in scored}
    assert VisitScore.from_dict(json.loads(json.dumps(v.as_dict()))) == v
    assert grade(v.overall) in (None, *(b.code for b in DEFAULT_GRADE_BANDS))
    assert (grade(v.overall) is None) == (v.overall is None)


@settings(deadline=None)
@given(visits(min_sections=1), st.data())
def test_na_is_the_same_as_excluding_the_question(case, data) -> None:
    spec, answers, channel = case
    all_questions = spec.questions()
    assume(all_questions)
    target = data.draw(st.sampled_from(all_questions))
    target_na = dataclasses.replace(target, allow_na=True)
    spec = ChecklistSpec(
        tuple(
            dataclasses.replace(s, questions=tuple(target_na if q is target else q for q in s.questions))
            for s in spec.sections
        ),
        spec.critical_scope,
    )
    without = {k: a for k, a in answers.items() if k != target.key}
    with_na = {**without, target.key: NA}
    check_answer(target_na, NA)
    scored_na = score_visit(spec, with_na, channel)
    # identical to leaving it unanswered ...
    assert scored_na == score_visit(spec, without, channel)
    # ... and to a checklist without that question at all
    removed = ChecklistSpec(
        tuple(
            dataclasses.replace(s, questions=tuple(q for q in s.questions if q is not target_na))
            for s in spec.sections
        ),
        spec.critical_scope,
    )
    assert scores_of(scored_na) == scores_of(score_visit(removed, without, channel))


@settings(deadline=None)
@given(visits(), st.data())
def test_questions_for_other_channels_do_not_matter(case, data) -> None:
    spec, answers, _ = case
    channel = data.draw(st.sampled_from(CHANNELS))
    applying = {q.key for q in spec.questions() if q.applies_to(channel)}
    only_applying = {k: a for k, a in answers.items() if k in applying}
    assert score_visit(spec, answers, channel) == score_visit(spec, only_applying, channel)


@settings(deadline=None)
@given(visits(min_sections=1), st.data())
def test_raising_a_fraction_never_lowers_a_score(case, data) -> None:
    spec, answers, channel = case
    scored = [(i, q) for i, s in enumerate(spec.sections) for q in s.questions if q.scored]
    assume(scored)
    index, target = data.draw(st.sampled_from(scored))
    low, high = Answer(data.draw(values(target))), Answer(data.draw(values(target)))
    if fraction(target, low) > fraction(target, high):
        low, high = high, low
    before = score_visit(spec, {**answers, target.key: low}, channel)
    after = score_visit(spec, {**answers, target.key: high}, channel)
    if before.sections[index].score is None:
        assert after.sections[index].score is None  # the question does not apply to the channel
    else:
        assert after.sections[index].score >= before.sections[index].score
    for b, a in zip(before.sections, after.sections, strict=True):
        assert (a.score is None) == (b.score is None)
        if b.score is not None:
            assert a.score >= b.score
    if before.overall is not None:
        assert after.overall >= before.overall
    for dimension, value in before.dimensions.items():
        assert after.dimensions[dimension] >= value


def failing_answer(question: QuestionSpec) -> tuple[QuestionSpec, Answer]:
    """The question made critical and for every channel, with an answer that earns 0."""
    question = dataclasses.replace(question, critical=True, channels=None)
    if question.kind == "yes_no":
        return question, Answer(not question.good_answer)
    if question.kind == "scale":
        return question, Answer(question.scale_min)
    if question.kind == "choice":
        question = dataclasses.replace(question, options=(*question.options, ("zero", 0.0)))
        return question, Answer("zero")
    if question.kind == "multi":
        question = dataclasses.replace(question, options=(*question.options, ("zero", 0.0)))
        return question, Answer(["zero"])
    question = dataclasses.replace(question, above=0.0)
    top = max((upto for upto, _ in question.bands), default=0.0)
    return question, Answer(top + 1)


@settings(deadline=None)
@given(visits(min_sections=1), st.data())
def test_a_failed_critical_question_zeroes_its_section(case, data) -> None:
    spec, answers, channel = case
    index = data.draw(st.integers(0, len(spec.sections) - 1))
    critical, bad = failing_answer(data.draw(questions("critical_q", SCORED_KINDS)))
    assert fraction(critical, bad) == 0.0
    sections = list(spec.sections)
    position = data.draw(st.integers(0, len(sections[index].questions)))
    qs = list(sections[index].questions)
    qs.insert(position, critical)
    sections[index] = dataclasses.replace(sections[index], questions=tuple(qs))
    spec = dataclasses.replace(spec, sections=tuple(sections))
    v = score_visit(spec, {**answers, "critical_q": bad}, channel)
    section = v.sections[index]
    assert section.score == 0.0
    assert section.critical_fail
    assert v.critical_fail
    assert "critical_q" in v.failed
    same_dimension = [s.score for s in v.sections if s.dimension == section.dimension and s.score is not None]
    assert v.dimensions[section.dimension] <= max(same_dimension) + 1e-9
    if spec.critical_scope == "visit":
        assert v.overall == 0.0
    else:
        scored = [s for s in v.sections if s.score is not None]
        expected = sum(s.weight * s.score for s in scored) / sum(s.weight for s in scored)
        assert v.overall == pytest.approx(expected)


@settings(deadline=None)
@given(st.lists(visits(), max_size=6))
def test_aggregate_is_the_mean_of_visit_scores(cases) -> None:
    scores = [score_visit(*case) for case in cases]
    agg = aggregate(scores)
    overalls = [v.overall for v in scores if v.overall is not None]
    assert agg.n == len(overalls)
    if overalls:
        assert agg.score == pytest.approx(sum(overalls) / len(overalls))
        assert min(overalls) - 1e-9 <= agg.score <= max(overalls) + 1e-9
    else:
        assert agg.score is None
    for dimension, (mean, n) in agg.dimensions.items():
        having = [v.dimensions[dimension] for v in scores if dimension in v.dimensions]
        assert n == len(having)
        assert mean == pytest.approx(sum(having) / n)
        assert in_range(mean)
    assert aggregate([v.as_dict() for v in scores]) == agg


@given(st.floats(-1000.0, 1000.0), st.integers(0, 3))
def test_rounding_is_to_the_nearest(value: float, digits: int) -> None:
    rounded = round_half_away(value, digits)
    assert abs(rounded - value) <= 0.5 * 10**-digits + 1e-9
    text = display(value, digits)
    assert float(text) == rounded
    assert len(text.partition(".")[2]) == digits
    if rounded == 0:
        assert not text.startswith("-")
    assert round_half_away(-value, digits) == -rounded


# --- conditions, unscored questions, multi, date, time, follow-ups (DESIGN.md section 4, rules added) ---

from audit_app.scoring import (  # noqa: E402
    Condition,
    missing_follow_ups,
    visibility,
)

C = Condition
LOGIC = checklist(
    S("visit", "reachability", 1.0, (
        Q("queue", "number", bands=((5, 1.0), (15, 0.5)), above=0.0),
        Q("callback", "yes_no", condition=C("queue", at_least=15)),
        Q("channels_used", "multi", options=(("web", 0.5), ("phone", 0.5), ("none", 0.0)), required=False),
        Q("gate", "yes_no", unscored=True),
        Q("when", "date"),
        Q("at", "time", required=False),
    )),
    S("privacy", "privacy", 2.0, (
        Q("identity", "yes_no", critical=True, follow_up="both"),
        Q("screens", "scale", condition=C("identity", any_of={"yes"})),
    ), condition=C("gate", any_of={"yes"})),
)


def test_a_condition_shows_a_question_only_when_met() -> None:
    v = visibility(LOGIC, {"queue": A(20)})
    assert v.question_shown("callback")
    assert not visibility(LOGIC, {"queue": A(10)}).question_shown("callback")
    assert not visibility(LOGIC, {}).question_shown("callback")  # unanswered: not met
    assert visibility(LOGIC, {"queue": A(15)}).question_shown("callback")  # at least is inclusive


def test_a_section_condition_hides_all_its_questions() -> None:
    hidden = visibility(LOGIC, {"gate": NO, "identity": YES})
    assert not hidden.section_shown("privacy")
    assert not hidden.question_shown("identity") and not hidden.question_shown("screens")
    shown = visibility(LOGIC, {"gate": YES, "identity": YES})
    assert shown.section_shown("privacy") and shown.question_shown("screens")


def test_a_condition_on_a_hidden_or_na_question_is_not_met() -> None:
    spec = checklist(S("s", "privacy", 1.0, (
        Q("a", "yes_no", allow_na=True),
        Q("b", "yes_no", condition=C("a", any_of={"yes"})),
        Q("c", "yes_no", condition=C("b", any_of={"yes", "no"})),
        Q("d", "yes_no", channels={"phone"}),
        Q("e", "yes_no", condition=C("d", any_of={"yes"})),
    )))
    # b is answered but hidden (a is no): c depends on a hidden question
    v = visibility(spec, {"a": NO, "b": YES})
    assert not v.question_shown("b") and not v.question_shown("c")
    assert not visibility(spec, {"a": NA, "b": YES}).question_shown("b")
    # d does not apply to email: e is hidden although d's stale answer meets it
    assert not visibility(spec, {"d": YES}, "email").question_shown("e")
    assert visibility(spec, {"d": YES}, "phone").question_shown("e")


def test_a_condition_on_a_later_or_unknown_question_is_never_met() -> None:
    spec = checklist(S("s", "privacy", 1.0, (
        Q("a", "yes_no", condition=C("b", any_of={"yes"})),
        Q("b", "yes_no"),
        Q("c", "yes_no", condition=C("zzz", any_of={"yes"})),
    )))
    v = visibility(spec, {"a": YES, "b": YES, "c": YES})
    assert not v.question_shown("a") and v.question_shown("b") and not v.question_shown("c")


def test_condition_kinds() -> None:
    multi = Q("m", "multi", options=(("x", 0.5), ("y", 0.5)))
    choice = Q("c", "choice", options=(("x", 1.0), ("y", 0.0)))
    scale = Q("s", "scale")
    from audit_app.scoring import condition_met

    assert condition_met(C("m", any_of={"y"}), multi, A(["x", "y"]))
    assert not condition_met(C("m", any_of={"z"}), multi, A(["x"]))
    assert condition_met(C("c", any_of={"x"}), choice, A("x"))
    assert not condition_met(C("c", any_of={"x"}), choice, A("y"))
    assert condition_met(C("s", at_most=2), scale, A(2)) and not condition_met(C("s", at_most=2), scale, A(3))
    assert not condition_met(C("s", at_most=2), scale, A(True))  # a stale value of another shape
    assert not condition_met(C("s", any_of={"2"}), scale, A(2))
    with pytest.raises(ValueError):
        C("s", at_most=1, at_least=0)
    with pytest.raises(ValueError):
        C("s")
    with pytest.raises(ValueError):
        Q("a", "yes_no", condition=C("a", any_of={"yes"}))
    assert Condition.from_dict({"question": "m", "any_of": ["x"]}) == C("m", any_of={"x"})
    assert Condition.from_dict(None) is None


def test_hidden_questions_are_excluded_and_their_stale_answers_ignored() -> None:
    answers = {"queue": A(3), "callback": NO, "gate": NO, "identity": A("not even a bool"), "when": A("2025-01-02")}
    v = score_visit(LOGIC, answers)
    scores = {q.key: q for s in v.sections for q in s.questions}
    assert not scores["callback"].shown and scores["callback"].fraction is None
    assert not scores["identity"].included and not scores["identity"].shown
    assert v.sections[0].score == 100.0  # only the queue counts: the gate is unscored, the date too
    assert v.sections[1].score is None and not v.critical_fail
    assert v.overall == 100.0


def test_unscored_questions_never_score_but_can_be_required() -> None:
    assert not Q("g", "yes_no", unscored=True).scored
    spec = checklist(S("s", "privacy", 1.0, (Q("g", "yes_no", unscored=True, critical=True), Q("x", "yes_no"))))
    v = score_visit(spec, {"g": NO, "x": YES})
    assert v.overall == 100.0 and not v.critical_fail and v.failed == ()
    assert missing_required(spec, {"x": YES}) == ["g"]


def test_multi_fraction_is_the_capped_sum() -> None:
    q = Q("m", "multi", options=(("a", 0.5), ("b", 0.75), ("c", 0.0)))
    assert fraction(q, A(["a"])) == 0.5
    assert fraction(q, A(["a", "b"])) == 1.0
    assert fraction(q, A(["c"])) == 0.0
    for bad, code in (([], "empty_selection"), (["a", "a"], "repeated_option"), (["z"], "unknown_option"),
                      ("a", "wrong_type"), ([1], "wrong_type")):
        with pytest.raises(AnswerError) as exc:
            check_answer(q, A(bad))
        assert exc.value.code == code
    with pytest.raises(ValueError):
        Q("m", "multi")


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [("date", "2025-02-28", True), ("date", "2025-02-30", False), ("date", "28.2.2025", False),
     ("date", 20250228, False), ("time", "09:30", True), ("time", "23:59:59", True), ("time", "24:00", False),
     ("time", "9:30", False), ("time", "noon", False)],
)
def test_date_and_time_answers(kind: str, value: object, ok: bool) -> None:
    q = Q("d", kind)
    assert not q.scored and q.requires_answer
    if ok:
        check_answer(q, A(value))
        assert fraction(q, A(value)) is None
    else:
        with pytest.raises(AnswerError) as exc:
            check_answer(q, A(value))
        assert exc.value.code == ("not_a_date" if kind == "date" else "not_a_time")


def test_missing_required_honours_visibility() -> None:
    answers = {"queue": A(20), "gate": YES, "when": A("2025-01-01")}
    assert missing_required(LOGIC, answers) == ["callback", "identity"]  # screens waits for identity
    assert missing_required(LOGIC, {**answers, "identity": YES}) == ["callback", "screens"]
    assert missing_required(LOGIC, {**answers, "queue": A(1), "gate": NO}) == []


def test_follow_ups_on_failure() -> None:
    base = {"queue": A(1), "gate": YES, "when": A("2025-01-01")}
    assert missing_follow_ups(LOGIC, {**base, "identity": NO}) == [("identity", "comment"), ("identity", "photo")]
    assert missing_follow_ups(LOGIC, {**base, "identity": A(False, comment="  ")}, photos={"identity": 1}) == [
        ("identity", "comment")]
    assert missing_follow_ups(LOGIC, {**base, "identity": A(False, comment="Asked nothing")}, photos={"identity"}) == []
    assert missing_follow_ups(LOGIC, {**base, "identity": YES}) == []  # not failed
    assert missing_follow_ups(LOGIC, {**base, "gate": NO, "identity": NO}) == []  # hidden
    unscored = checklist(S("s", "privacy", 1.0, (Q("u", "yes_no", unscored=True, follow_up="comment"),)))
    assert missing_follow_ups(unscored, {"u": NO}) == []


def _replace_answers(spec: ChecklistSpec, answers: dict[str, Answer], key: str, answer: Answer | None):
    out = {k: a for k, a in answers.items() if k != key}
    if answer is not None:
        out[key] = answer
    return out


@settings(deadline=None, max_examples=200)
@given(visits(min_sections=1, logic=True), st.data())
def test_an_answer_to_a_hidden_question_never_changes_any_score(case, data) -> None:
    spec, answers, channel = case
    shown = visibility(spec, answers, channel)
    hidden = [q for q in spec.questions() if not shown.question_shown(q.key)]
    assume(hidden)
    target = data.draw(st.sampled_from(hidden))
    other = data.draw(st.none() | values(target).map(Answer) | st.just(Answer(None)))
    changed = _replace_answers(spec, answers, target.key, other)
    # a hidden question may drive a later condition only through being shown: it is not
    assert visibility(spec, changed, channel) == shown
    assert score_visit(spec, changed, channel) == score_visit(spec, answers, channel)
    assert missing_required(spec, changed, channel) == missing_required(spec, answers, channel)
    assert missing_follow_ups(spec, changed, channel) == missing_follow_ups(spec, answers, channel)


@settings(deadline=None, max_examples=200)
@given(visits(min_sections=1, logic=True))
def test_hiding_a_question_is_the_same_as_answering_it_na(case) -> None:
    spec, answers, channel = case
    shown = visibility(spec, answers, channel)
    v = score_visit(spec, answers, channel)
    # each hidden question answered N/A (allowed) instead, and shown: same scores
    na_spec = ChecklistSpec(
        tuple(
            dataclasses.replace(
                s, condition=None,
                questions=tuple(
                    dataclasses.replace(q, condition=None, channels=None, allow_na=True)
                    if not shown.question_shown(q.key) else dataclasses.replace(q, condition=None, channels=None)
                    for q in s.questions
                ),
            )
            for s in spec.sections
        ),
        spec.critical_scope,
    )
    na_answers = {k: (NA if not shown.question_shown(k) else a) for k, a in answers.items()}
    na_answers.update({q.key: NA for q in spec.questions() if not shown.question_shown(q.key)})
    assert all(visibility(na_spec, na_answers).questions.values())
    assert scores_of(score_visit(na_spec, na_answers)) == scores_of(v)


@settings(deadline=None, max_examples=200)
@given(checklists(min_sections=1, logic=True))
def test_conditions_of_a_generated_version_only_look_back(spec) -> None:
    """The generator draws valid versions: every condition refers to an earlier question, so the
    order is a topological order and there is no cycle. Visibility walks that order once."""
    seen: set[str] = set()
    for section in spec.sections:
        if section.condition is not None:
            assert section.condition.question in seen
        for question in section.questions:
            if question.condition is not None:
                assert question.condition.question in seen
                assert question.condition.question != question.key
            seen.add(question.key)


@settings(deadline=None, max_examples=200)
@given(visits(logic=True))
def test_scores_with_logic_stay_in_range_and_hidden_means_excluded(case) -> None:
    spec, answers, channel = case
    shown = visibility(spec, answers, channel)
    v = score_visit(spec, answers, channel)
    for section in v.sections:
        assert in_range(section.score)
        for q in section.questions:
            assert q.shown == shown.question_shown(q.key)
            if not q.shown:
                assert not q.included and q.fraction is None and not q.failed
    for section in spec.sections:
        assert shown.section_shown(section.key) == any(shown.question_shown(q.key) for q in section.questions)
    assert in_range(v.overall)
    assert set(missing_required(spec, answers, channel)) <= {k for k, s in shown.questions.items() if s}
