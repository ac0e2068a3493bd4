"""Validation of show-if conditions (DESIGN.md section 4, "Conditions"), over a whole document.

A condition needs the checklist around it: it may refer only to an *earlier* question (for a
section: a question of an earlier section), of a kind that can drive one, with that question's real
values. Problems are reported at the condition's place (``sections[1].questions[2].condition.any_of[0]``)
with a message in the user's language. Because only earlier questions may be referred to, the
conditions of a valid version can never form a cycle; a file whose conditions do is refused with
the cycle spelled out.
"""

from __future__ import annotations

import math
import numbers

from flask_babel import gettext as _

from ..scoring import BOUND_CONDITION_KINDS, CONDITION_KINDS, VALUE_CONDITION_KINDS

CONDITION_FIELDS = ("question", "any_of", "at_most", "at_least")
MAX_VALUES = 20


def _real(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _values_of(question: dict) -> list[str]:
    """The values a condition may name for ``question``: yes/no, or its option keys."""
    if question.get("kind") == "yes_no":
        return ["yes", "no"]
    return [o.get("key") for o in question.get("options") or () if isinstance(o, dict)]


def _cycle(start: str, refs: dict[str, str]) -> list[str] | None:
    """The chain start → ... → start when following the references comes back, else None."""
    chain, seen, key = [start], {start}, refs.get(start)
    while key is not None:
        chain.append(key)
        if key == start:
            return chain
        if key in seen:
            return None
        seen.add(key)
        key = refs.get(key)
    return None


def check_conditions(doc, add) -> None:
    """Report every condition problem of checklist document ``doc`` through ``add(path, message)``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("sections"), list):
        return
    sections = [s for s in doc["sections"]]
    by_key: dict[str, dict] = {}
    refs: dict[str, str] = {}  # question key -> the key its condition (or its section's) refers to
    for section in sections:
        if not isinstance(section, dict):
            continue
        section_ref = section.get("condition", {}).get("question") if isinstance(section.get("condition"), dict) else None
        for question in section.get("questions") or ():
            if isinstance(question, dict) and isinstance(question.get("key"), str):
                by_key.setdefault(question["key"], question)
                ref = question.get("condition", {}).get("question") if isinstance(question.get("condition"), dict) \
                    else None
                ref = ref if isinstance(ref, str) else section_ref
                if isinstance(ref, str):
                    refs.setdefault(question["key"], ref)
    earlier: set[str] = set()
    for i, section in enumerate(sections):
        if not isinstance(section, dict):
            continue
        path = f"sections[{i}]"
        own = [q.get("key") for q in section.get("questions") or () if isinstance(q, dict)]
        if section.get("condition") is not None:
            _condition(section["condition"], f"{path}.condition", None, own, earlier, by_key, refs, add)
        for j, question in enumerate(section.get("questions") or ()):
            if not isinstance(question, dict):
                continue
            if question.get("condition") is not None:
                _condition(question["condition"], f"{path}.questions[{j}].condition", question.get("key"), own,
                           earlier, by_key, refs, add)
            if isinstance(question.get("key"), str):
                earlier.add(question["key"])


def _condition(cond, path: str, own_key, section_keys, earlier: set, by_key: dict, refs: dict, add) -> None:
    if not isinstance(cond, dict):
        add(path, _("must be an object with the question and any_of, at_most or at_least"))
        return
    for name in cond:
        if name not in CONDITION_FIELDS:
            add(f"{path}.{name}", _("unknown field"))
    key = cond.get("question")
    if not isinstance(key, str) or not key:
        add(f"{path}.question", _("name the question the condition depends on by its key"))
        return
    if own_key is not None and key == own_key:
        add(f"{path}.question", _("a question cannot depend on itself"))
        return
    if key not in by_key:
        add(f"{path}.question", _("unknown question %(key)s", key=key[:64]))
        return
    if key not in earlier:
        if own_key is None and key in section_keys:
            add(f"{path}.question", _("a section can depend only on a question of an earlier section, "
                                      "not on its own question %(key)s", key=key))
            return
        loop = _cycle(own_key, refs) if own_key is not None else None
        if loop:
            add(f"{path}.question", _("the conditions go round in a circle: %(cycle)s", cycle=" → ".join(loop)))
        else:
            add(f"{path}.question", _("%(key)s comes later: a condition can depend only on an earlier question",
                                      key=key))
        return
    target = by_key[key]
    kind = target.get("kind")
    if kind not in CONDITION_KINDS:
        add(f"{path}.question", _("a condition cannot depend on a text, photo, date or time question (%(key)s)",
                                  key=key))
        return
    given = [name for name in ("any_of", "at_most", "at_least") if name in cond]
    if len(given) != 1:
        add(path, _("give exactly one of any_of, at_most and at_least"))
        return
    name = given[0]
    if name == "any_of":
        if kind in BOUND_CONDITION_KINDS:
            add(f"{path}.any_of", _("%(key)s is a scale or number question: use at_most or at_least", key=key))
            return
        values = cond["any_of"]
        if not isinstance(values, list) or not values:
            add(f"{path}.any_of", _("choose at least one value"))
            return
        allowed = _values_of(target)
        seen: set = set()
        for k, value in enumerate(values[:MAX_VALUES]):
            if not isinstance(value, str) or value not in allowed:
                add(f"{path}.any_of[{k}]", _("%(value)s is not a value of %(key)s: use one of %(values)s",
                                              value=str(value)[:64], key=key, values=", ".join(map(str, allowed))))
            elif value in seen:
                add(f"{path}.any_of[{k}]", _("duplicate value %(value)s", value=value))
            else:
                seen.add(value)
        return
    if kind in VALUE_CONDITION_KINDS:
        add(f"{path}.{name}", _("a number bound needs a scale or number question; %(key)s is answered with "
                                "values: use any_of", key=key))
        return
    bound = _real(cond[name])
    if bound is None or abs(bound) > 1e9:
        add(f"{path}.{name}", _("must be a number"))
