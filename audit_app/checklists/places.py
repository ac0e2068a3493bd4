"""A checklist problem's place in words: ``sections[1].questions[2].options[0].label.fi`` becomes
"Section 2, question 3, option 1, label (Finnish)".

The validator (``validation``) keeps exact, technical paths; the designer and the import page
show people the place in words, with the message, as one sentence (``problem_text``). A field
this module does not know is shown by its name.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

#: list fields whose items are numbered: path name -> the item's word ("Section %(n)d")
ITEMS = {
    "sections": _l("Section %(n)d"),
    "questions": _l("question %(n)d"),
    "options": _l("option %(n)d"),
    "bands": _l("band %(n)d"),
    "grade_bands": _l("grade band %(n)d"),
    "channels": _l("channel %(n)d"),
}

#: a required list left empty, said of its owner: path name -> sentence
NEEDS = {
    "sections": _l("The checklist needs at least one section."),
    "questions": _l("%(where)s needs at least one question."),
    "options": _l("%(where)s needs at least one option."),
    "bands": _l("%(where)s needs at least one band."),
}

FIELDS = {
    "format": _l("file format"),
    "title": _l("title"),
    "description": _l("description"),
    "critical_scope": _l("critical failure makes"),
    "grade_bands": _l("grade bands"),
    "sections": _l("sections"),
    "questions": _l("questions"),
    "key": _l("key"),
    "dimension": _l("dimension"),
    "weight": _l("weight"),
    "guidance": _l("guidance"),
    "kind": _l("type of answer"),
    "prompt": _l("question text"),
    "required": _l("required"),
    "allow_na": _l("N/A allowed"),
    "critical": _l("critical"),
    "channels": _l("channels"),
    "photo": _l("photo"),
    "good_answer": _l("good answer"),
    "min": _l("lowest point"),
    "max": _l("highest point"),
    "min_label": _l("label of the lowest point"),
    "max_label": _l("label of the highest point"),
    "options": _l("options"),
    "label": _l("label"),
    "fraction": _l("share of points"),
    "unit": _l("unit"),
    "bands": _l("bands"),
    "upto": _l("up to"),
    "above": _l("above every band"),
    "code": _l("code"),
}

LANGUAGE_NAMES = {"en": _l("in English"), "fi": _l("in Finnish")}

_PART = re.compile(r"([^.\[\]]+)(?:\[(\d+)\])?")


def _parts(path: str) -> list[tuple[str, int | None]]:
    return [(m.group(1), int(m.group(2)) if m.group(2) is not None else None)
            for m in _PART.finditer(path or "")]


def _words(parts: list[tuple[str, int | None]]) -> list[str]:
    words: list[str] = []
    for name, index in parts:
        if index is not None and name in ITEMS:
            words.append(str(ITEMS[name] % {"n": index + 1}))
        elif index is not None:
            words.append(f"{FIELDS.get(name, name)} {index + 1}")
        elif name in LANGUAGE_NAMES and words:
            words[-1] = f"{words[-1]} ({LANGUAGE_NAMES[name]})"
        else:
            words.append(str(FIELDS.get(name, name)))
    return words


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def place(path: str) -> str:
    """The place of ``path`` in words, starting with a capital: "Section 2, question 3, weight"."""
    return _sentence(", ".join(_words(_parts(path))))


def problem_text(problem) -> str:
    """One problem as a sentence people read: "Section 1 needs at least one question.",
    "Section 2, question 3, weight: the weight must be greater than 0"."""
    parts = _parts(problem.path)
    if problem.rule == "empty" and parts and parts[-1][0] in NEEDS and parts[-1][1] is None:
        owner = _sentence(", ".join(_words(parts[:-1])))
        return str(NEEDS[parts[-1][0]]) % {"where": owner} if owner else str(NEEDS["sections"])
    if not problem.path:
        return _sentence(problem.message)
    return _("%(where)s: %(message)s", where=place(problem.path), message=problem.message)
