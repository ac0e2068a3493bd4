"""The self-assessment form's posted fields (the evaluator's field names, templates/checklists/
_question_input.html) read as the answers the engine takes."""

from __future__ import annotations

from types import SimpleNamespace

_NOT_A_NUMBER = object()


def _number(raw: str):
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        return raw  # the question refuses it with its own message
    return int(number) if number.is_integer() and abs(number) < 1e15 else number


def parse_posted_answers(questions, form) -> dict[int, tuple[object, bool, str]]:
    """{question id: (value, na, comment)} for every question of the page."""
    out = {}
    for q in questions:
        field = f"q-{q.id}"
        na = form.get(f"{field}-na") == "1" and q.allow_na
        comment = form.get(f"{field}-comment", "")
        if q.kind == "multi":
            chosen = [v for v in form.getlist(field) if v]
            value = chosen or None
        else:
            raw = (form.get(field) or "").strip()
            if raw == "":
                value = None
            elif q.kind == "yes_no":
                value = {"yes": True, "no": False}.get(raw, raw)
            elif q.kind in ("scale", "number"):
                value = _number(raw)
            else:
                value = raw
        out[q.id] = (None if na else value, bool(na), comment)
    return out


def posted_answers_view(given: dict, stored: dict) -> dict:
    """What the form shows again after a refusal: the answers as posted (nothing typed is lost)."""
    out = dict(stored)
    for qid, (value, na, comment) in given.items():
        out[qid] = SimpleNamespace(value=value, na=na, comment=comment)
    return out
