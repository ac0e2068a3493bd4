"""The one validator of checklist content, used by the designer, publishing and import.

It checks a checklist document in the file format of ``docs/checklist-format.md`` (the
designer turns a version into that document with ``fileformat.export_doc``) and returns every
problem found, each with the exact place (``sections[2].questions[0].bands[1].upto``) and a
message in the user's language. The place stays technical here; ``places`` says it in words
("Section 3, question 1, band 2, up to") for the pages (``Problem.text``).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

from flask_babel import gettext as _

from ..scoring import CHANNELS, CRITICAL_SCOPES, FOLLOW_UPS, KINDS, SCORED_KINDS
from .conditions import check_conditions
from .kinds import KIND_FIELDS
from .models import PHOTO_MODES, UNITS

FORMAT = "outside-eye-checklist/1"
LANGUAGES = ("en", "fi")
KEY_RE = re.compile(r"^[a-z0-9_]{1,64}$")

TITLE_MAX = 200
PROMPT_MAX = 1000
TEXT_MAX = 5000
LABEL_MAX = 200
WEIGHT_MAX = 1000
MAX_SECTIONS = 50
MAX_QUESTIONS = 200
MAX_OPTIONS = 20
MAX_BANDS = 20
MAX_SCALE_POINTS = 11
BOUND_MAX = 1e9

TOP_FIELDS = ("format", "title", "description", "critical_scope", "grade_bands", "sections")
SECTION_FIELDS = ("key", "title", "dimension", "weight", "guidance", "questions", "condition")
QUESTION_FIELDS = (
    "key", "kind", "prompt", "guidance", "weight", "required", "allow_na", "critical", "channels", "photo",
    "condition", "unscored", "follow_up",
)


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    #: "empty": a required list (sections, questions, options, bands) has no item; ``places`` then
    #: says it as a sentence ("Section 1 needs at least one question")
    rule: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    @property
    def text(self) -> str:
        """The problem as people read it, with its place in words ("Section 2, question 3: ...")."""
        from .places import problem_text

        return problem_text(self)


def _real(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class _Checker:
    def __init__(self, dimensions):
        self.dimensions = set(dimensions)
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, rule: str = "") -> None:
        self.problems.append(Problem(path, message, rule))

    # --- building blocks --------------------------------------------------------------------

    def obj(self, value, path: str) -> bool:
        if not isinstance(value, dict):
            self.add(path, _("must be an object"))
            return False
        return True

    def unknown_fields(self, value: dict, allowed, path: str) -> None:
        for name in value:
            if name not in allowed:
                self.add(f"{path}.{name}" if path else str(name), _("unknown field"))

    def text(self, value, path: str, required: bool, limit: int) -> None:
        if value is None:
            if required:
                self.add(path, _("text is required in Finnish or English"))
            return
        if not isinstance(value, dict):
            self.add(path, _("must be an object with the keys en and fi"))
            return
        filled = False
        for lang, item in value.items():
            if lang not in LANGUAGES:
                self.add(f"{path}.{lang}", _("unknown language: use en or fi"))
            elif not isinstance(item, str):
                self.add(f"{path}.{lang}", _("must be text"))
            elif len(item) > limit:
                self.add(f"{path}.{lang}", _("at most %(max)d characters", max=limit))
            elif item.strip():
                filled = True
        if required and not filled:
            self.add(path, _("text is required in Finnish or English"))

    def key(self, value, path: str, seen: set) -> None:
        if not isinstance(value, str) or not KEY_RE.match(value):
            self.add(path, _("a key is 1 to 64 lowercase letters, digits or _"))
        elif value in seen:
            self.add(path, _("duplicate key %(key)s", key=value))
        else:
            seen.add(value)

    def boolean(self, value, path: str) -> None:
        if not isinstance(value, bool):
            self.add(path, _("must be true or false"))

    def weight(self, value, path: str) -> None:
        number = _real(value)
        if number is None:
            self.add(path, _("must be a number"))
        elif number <= 0:
            self.add(path, _("the weight must be greater than 0"))
        elif number > WEIGHT_MAX:
            self.add(path, _("the weight must be at most %(max)d", max=WEIGHT_MAX))

    def fraction(self, value, path: str) -> None:
        number = _real(value)
        if number is None:
            self.add(path, _("must be a number"))
        elif not 0 <= number <= 1:
            self.add(path, _("a fraction must be between 0 and 1"))

    def items(self, value, path: str, limit: int, required_message: str | None) -> list:
        if value is None and required_message is None:
            return []
        if not isinstance(value, list):
            self.add(path, _("must be a list"))
            return []
        if not value and required_message:
            self.add(path, required_message, rule="empty")
        if len(value) > limit:
            self.add(path, _("at most %(max)d items", max=limit))
            return value[:limit]
        return value

    # --- the document -----------------------------------------------------------------------

    def document(self, doc) -> None:
        if not isinstance(doc, dict):
            self.add("", _("the file must contain one JSON object"))
            return
        self.unknown_fields(doc, TOP_FIELDS, "")
        if doc.get("format") != FORMAT:
            self.add("format", _("must be %(format)s", format=FORMAT))
        self.meta(doc)
        bands = doc.get("grade_bands")
        if bands is not None:
            self.grade_bands(bands)
        sections = self.items(
            doc.get("sections"), "sections", MAX_SECTIONS, _("a checklist needs at least one section")
        )
        section_keys: set = set()
        question_keys: set = set()
        for i, section in enumerate(sections):
            self.section(section, f"sections[{i}]", section_keys, question_keys)
        check_conditions(doc, self.add)

    def meta(self, doc: dict) -> None:
        self.text(doc.get("title"), "title", True, TITLE_MAX)
        self.text(doc.get("description"), "description", False, TEXT_MAX)
        if doc.get("critical_scope", "section") not in CRITICAL_SCOPES:
            self.add("critical_scope", _("must be section or visit"))

    def grade_bands(self, bands) -> None:
        bands = self.items(bands, "grade_bands", 10, None)
        previous = None
        for i, band in enumerate(bands):
            path = f"grade_bands[{i}]"
            if not self.obj(band, path):
                continue
            self.unknown_fields(band, ("min", "label", "code"), path)
            low = _real(band.get("min"))
            if low is None or not 0 <= low <= 100:
                self.add(f"{path}.min", _("must be a number from 0 to 100"))
            elif previous is not None and low >= previous:
                self.add(f"{path}.min", _("the minimums must descend"))
            else:
                previous = low
            self.text(band.get("label"), f"{path}.label", True, LABEL_MAX)
            if "code" in band and (not isinstance(band["code"], str) or not KEY_RE.match(band["code"])):
                self.add(f"{path}.code", _("a key is 1 to 64 lowercase letters, digits or _"))
        if bands and previous is not None and _real(bands[-1].get("min") if isinstance(bands[-1], dict) else None) != 0:
            self.add(f"grade_bands[{len(bands) - 1}].min", _("the last minimum must be 0"))

    def section(self, section, path: str, section_keys: set, question_keys: set, with_questions=True) -> None:
        if not self.obj(section, path):
            return
        self.unknown_fields(section, SECTION_FIELDS, path)
        self.key(section.get("key"), f"{path}.key", section_keys)
        self.text(section.get("title"), f"{path}.title", True, TITLE_MAX)
        dimension = section.get("dimension")
        if dimension in (None, ""):
            self.add(f"{path}.dimension", _("every section needs a dimension"))
        elif dimension not in self.dimensions:
            self.add(f"{path}.dimension", _("unknown dimension %(code)s", code=str(dimension)[:64]))
        self.weight(section.get("weight", 1), f"{path}.weight")
        self.text(section.get("guidance"), f"{path}.guidance", False, TEXT_MAX)
        if not with_questions:
            return
        questions = self.items(
            section.get("questions"), f"{path}.questions", MAX_QUESTIONS, _("a section needs at least one question")
        )
        for j, question in enumerate(questions):
            self.question(question, f"{path}.questions[{j}]", question_keys)

    def question(self, q, path: str, question_keys: set) -> None:
        if not self.obj(q, path):
            return
        kind = q.get("kind")
        known_kind = kind in KINDS
        allowed = QUESTION_FIELDS + (KIND_FIELDS[kind] if known_kind else ())
        self.unknown_fields(q, allowed, path)
        self.key(q.get("key"), f"{path}.key", question_keys)
        if not known_kind:
            self.add(f"{path}.kind", _("unknown kind: use one of %(kinds)s", kinds=", ".join(KINDS)))
        self.text(q.get("prompt"), f"{path}.prompt", True, PROMPT_MAX)
        self.text(q.get("guidance"), f"{path}.guidance", False, TEXT_MAX)
        self.weight(q.get("weight", 1), f"{path}.weight")
        for flag in ("required", "allow_na", "critical", "unscored"):
            if flag in q:
                self.boolean(q[flag], f"{path}.{flag}")
        scored = known_kind and kind in SCORED_KINDS and q.get("unscored") is not True
        if q.get("critical") is True and known_kind and not scored:
            self.add(f"{path}.critical", _("only a scored question can be critical"))
        self.follow_up(q, path, scored)
        channels = q.get("channels")
        if channels is not None:
            if not isinstance(channels, list):
                self.add(f"{path}.channels", _("must be a list of channels, or null for every channel"))
            else:
                seen = set()
                for k, channel in enumerate(channels):
                    if channel not in CHANNELS:
                        self.add(
                            f"{path}.channels[{k}]",
                            _("unknown channel: use one of %(channels)s", channels=", ".join(CHANNELS)),
                        )
                    elif channel in seen:
                        self.add(f"{path}.channels[{k}]", _("duplicate channel"))
                    else:
                        seen.add(channel)
        if q.get("photo", "none") not in PHOTO_MODES:
            self.add(f"{path}.photo", _("must be none, allowed or required"))
        if kind == "yes_no":
            if q.get("good_answer", "yes") not in ("yes", "no"):
                self.add(f"{path}.good_answer", _("must be yes or no"))
        elif kind == "scale":
            self.scale(q, path)
        elif kind in ("choice", "multi"):
            self.choice(q, path)
        elif kind == "number":
            self.number(q, path)

    def follow_up(self, q: dict, path: str, scored: bool) -> None:
        follow_up = q.get("follow_up", "none")
        if follow_up not in FOLLOW_UPS:
            self.add(f"{path}.follow_up", _("must be none, comment, photo or both"))
        elif follow_up != "none" and not scored:
            self.add(f"{path}.follow_up", _("only a scored question can ask for more when its answer fails"))
        elif follow_up in ("photo", "both") and q.get("photo", "none") == "none":
            self.add(f"{path}.follow_up", _("a photo on failure needs photos allowed on the question"))

    def scale(self, q: dict, path: str) -> None:
        low, high = q.get("min", 1), q.get("max", 5)
        ok = True
        for name, value in (("min", low), ("max", high)):
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 1000:
                self.add(f"{path}.{name}", _("must be a whole number"))
                ok = False
        if ok and low >= high:
            self.add(f"{path}.max", _("the scale's minimum must be below its maximum"))
        elif ok and high - low + 1 > MAX_SCALE_POINTS:
            self.add(f"{path}.max", _("a scale has at most %(max)d points", max=MAX_SCALE_POINTS))
        self.text(q.get("min_label"), f"{path}.min_label", False, LABEL_MAX)
        self.text(q.get("max_label"), f"{path}.max_label", False, LABEL_MAX)

    def choice(self, q: dict, path: str) -> None:
        needed = (_("a multi-select question needs at least one option") if q.get("kind") == "multi"
                  else _("a choice question needs at least one option"))
        options = self.items(q.get("options"), f"{path}.options", MAX_OPTIONS, needed)
        keys: set = set()
        for i, option in enumerate(options):
            where = f"{path}.options[{i}]"
            if not self.obj(option, where):
                continue
            self.unknown_fields(option, ("key", "label", "fraction"), where)
            self.key(option.get("key"), f"{where}.key", keys)
            self.text(option.get("label"), f"{where}.label", True, LABEL_MAX)
            self.fraction(option.get("fraction"), f"{where}.fraction")

    def number(self, q: dict, path: str) -> None:
        if q.get("unit") not in UNITS:
            self.add(f"{path}.unit", _("unknown unit: use one of %(units)s", units=", ".join(UNITS)))
        bands = self.items(
            q.get("bands"), f"{path}.bands", MAX_BANDS, _("a number question needs at least one band")
        )
        previous = None
        for i, band in enumerate(bands):
            where = f"{path}.bands[{i}]"
            if not self.obj(band, where):
                continue
            self.unknown_fields(band, ("upto", "fraction"), where)
            upto = _real(band.get("upto"))
            if upto is None or abs(upto) > BOUND_MAX:
                self.add(f"{where}.upto", _("must be a number"))
            elif previous is not None and upto <= previous:
                self.add(f"{where}.upto", _("bounds must ascend"))
            else:
                previous = upto
            self.fraction(band.get("fraction"), f"{where}.fraction")
        if "above" in q:
            self.fraction(q["above"], f"{path}.above")


def validate_doc(doc, dimensions) -> list[Problem]:
    """Every problem of a whole checklist document; an empty list means it may be published."""
    checker = _Checker(dimensions)
    checker.document(doc)
    return checker.problems


def validate_meta(doc: dict) -> list[Problem]:
    """Problems of a version's title, description and critical scope."""
    checker = _Checker(())
    checker.meta(doc)
    return checker.problems


def validate_section(section: dict, path: str, dimensions, other_keys=()) -> list[Problem]:
    """Problems of one section's own fields (its questions are checked one by one)."""
    checker = _Checker(dimensions)
    checker.section(section, path, set(other_keys), set(), with_questions=False)
    return checker.problems


def validate_question(question: dict, path: str, other_keys=()) -> list[Problem]:
    """Problems of one question; ``other_keys`` are the keys of the version's other questions."""
    checker = _Checker(())
    checker.question(question, path, set(other_keys))
    return checker.problems


def validate_conditions_at(doc: dict, path: str) -> list[Problem]:
    """Condition problems of the section or question at ``path`` of the whole document ``doc`` (the
    designer checks one condition against the version around it)."""
    checker = _Checker(())
    check_conditions(doc, checker.add)
    prefix = f"{path}.condition"
    return [p for p in checker.problems if p.path == prefix or p.path.startswith((prefix + ".", prefix + "["))]
