"""Hypothesis strategies for checklists and answers, shared by the engine's property tests
(tests/test_scoring.py) and the browser's visibility test (tests/test_form_logic_browser.py).

``checklists(logic=True)`` also draws conditions (on earlier questions only, as a valid version
has them), unscored flags and follow-ups; ``answer_sets`` draws answers for every question,
hidden or not, so that stale answers of hidden questions are exercised too.
"""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from audit_app.scoring import (
    CHANNELS,
    DIMENSIONS,
    FOLLOW_UPS,
    KINDS,
    SCORED_KINDS,
    Answer,
    ChecklistSpec,
    Condition,
    QuestionSpec,
    SectionSpec,
)

NA = Answer(na=True)
FRACTIONS = st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(0.0, 1.0))
WEIGHTS = st.one_of(st.sampled_from([0.5, 1.0, 2.0, 3.0]), st.floats(0.01, 100.0))
DATES = st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10)
TIMES = st.times().map(lambda t: t.strftime("%H:%M"))


@st.composite
def questions(draw: st.DrawFn, key: str, kinds: tuple[str, ...] = KINDS, logic: bool = False) -> QuestionSpec:
    kind = draw(st.sampled_from(kinds))
    fields: dict[str, object] = {
        "weight": draw(WEIGHTS),
        "required": draw(st.booleans()),
        "allow_na": draw(st.booleans()),
        "critical": draw(st.booleans()) if kind in SCORED_KINDS else False,
        "channels": draw(st.none() | st.frozensets(st.sampled_from(CHANNELS), min_size=1)),
    }
    if logic:
        fields["unscored"] = draw(st.booleans()) if kind in SCORED_KINDS else False
        fields["follow_up"] = draw(st.sampled_from(FOLLOW_UPS))
    if kind == "yes_no":
        fields["good_answer"] = draw(st.booleans())
    elif kind == "scale":
        low = draw(st.integers(-5, 5))
        fields.update(scale_min=low, scale_max=low + draw(st.integers(1, 10)))
    elif kind in ("choice", "multi"):
        fracs = draw(st.lists(FRACTIONS, min_size=1, max_size=5))
        fields["options"] = tuple((f"o{i}", f) for i, f in enumerate(fracs))
    elif kind == "number":
        bounds = draw(st.lists(st.integers(-50, 100), max_size=4, unique=True))
        fields["bands"] = tuple((b, draw(FRACTIONS)) for b in sorted(bounds))
        fields["above"] = draw(FRACTIONS)
    return QuestionSpec(key, kind, **fields)


def values(question: QuestionSpec) -> st.SearchStrategy[object]:
    """Valid non-empty values for a question."""
    kind = question.kind
    if kind == "yes_no":
        return st.booleans()
    if kind == "scale":
        return st.integers(question.scale_min, question.scale_max)
    if kind == "choice":
        return st.sampled_from([key for key, _ in question.options])
    if kind == "multi":
        return st.lists(st.sampled_from([key for key, _ in question.options]), min_size=1, unique=True)
    if kind == "number":
        return st.integers(-100, 150) | st.floats(-100.0, 150.0)
    if kind == "date":
        return DATES
    if kind == "time":
        return TIMES
    return st.text(max_size=5)


@st.composite
def conditions(draw: st.DrawFn, earlier: list[QuestionSpec]) -> Condition | None:
    """None, or a condition on one of the ``earlier`` questions (of a kind that can drive one)."""
    usable = [q for q in earlier if q.kind in ("yes_no", "choice", "multi", "scale", "number")]
    if not usable or draw(st.integers(0, 2)) == 0:
        return None
    target = draw(st.sampled_from(usable))
    if target.kind == "yes_no":
        return Condition(target.key, any_of=frozenset(draw(st.lists(st.sampled_from(["yes", "no"]), min_size=1))))
    if target.kind in ("choice", "multi"):
        keys = [k for k, _ in target.options]
        return Condition(target.key, any_of=frozenset(draw(st.lists(st.sampled_from(keys), min_size=1))))
    if target.kind == "scale":
        bound = draw(st.integers(target.scale_min, target.scale_max))
    else:
        bound = draw(st.integers(-50, 120) | st.floats(-50.0, 120.0))
    if draw(st.booleans()):
        return Condition(target.key, at_most=bound)
    return Condition(target.key, at_least=bound)


@st.composite
def checklists(draw: st.DrawFn, min_sections: int = 0, logic: bool = False, max_sections: int = 4,
               max_questions: int = 5) -> ChecklistSpec:
    sections = []
    earlier: list[QuestionSpec] = []
    counter = 0
    for i in range(draw(st.integers(min_sections, max_sections))):
        section_condition = draw(conditions(earlier)) if logic else None
        qs = []
        for _ in range(draw(st.integers(0, max_questions))):
            question = draw(questions(f"q{counter}", logic=logic))
            if logic:
                question = dataclasses.replace(question, condition=draw(conditions(earlier + qs)))
            qs.append(question)
            counter += 1
        earlier.extend(qs)
        dimension = draw(st.sampled_from((*DIMENSIONS, "custom")))
        sections.append(SectionSpec(f"s{i}", dimension, draw(WEIGHTS), tuple(qs), condition=section_condition))
    return ChecklistSpec(tuple(sections), critical_scope=draw(st.sampled_from(("section", "visit"))))


@st.composite
def answer_sets(draw: st.DrawFn, spec: ChecklistSpec) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for question in spec.questions():
        choice = draw(st.sampled_from(("missing", "empty", "na", "value", "value")))
        if choice == "empty":
            answers[question.key] = Answer(None)
        elif choice == "na" and question.allow_na:
            answers[question.key] = NA
        elif choice == "value":
            answers[question.key] = Answer(draw(values(question)), comment=draw(st.sampled_from(["", "", "note"])))
    return answers


@st.composite
def visits(draw: st.DrawFn, min_sections: int = 0, logic: bool = False):
    spec = draw(checklists(min_sections, logic=logic))
    return spec, draw(answer_sets(spec)), draw(st.none() | st.sampled_from(CHANNELS))
