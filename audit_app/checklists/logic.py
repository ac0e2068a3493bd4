"""The form logic of a version as the pages use it: what is shown, and the data the browser needs
to decide the same as the engine while the evaluator (or an admin in the preview) answers.

The browser's code is ``static/js/form-logic.js`` (a pure function mirroring
``scoring.visibility``); it reads the data below as JSON from the page's ``data-form-logic``
attribute, never from inline script (the Content-Security-Policy forbids it). The server decides what is
required with the engine, never with the browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..scoring import Answer, Visibility, visibility
from .models import ChecklistVersion


def logic_data(version: ChecklistVersion, channel: str | None, answers: Mapping[str, Answer]) -> dict:
    """Plain JSON data: the version's sections and questions with what the visibility depends on
    (keys, kinds, channels, conditions) and the answers known to the server, keyed by question key."""
    return {
        "channel": channel,
        "sections": [
            {
                "key": s.key,
                "id": s.id,
                "condition": s.condition or None,
                "questions": [
                    {"key": q.key, "id": q.id, "kind": q.kind, "channels": list(q.channels) if q.channels else None,
                     "condition": q.condition or None}
                    for q in s.questions
                ],
            }
            for s in version.sections
        ],
        "answers": {key: {"value": a.value, "na": bool(a.na)} for key, a in answers.items()},
    }


class FormLogic:
    """A visit's (or the preview's) form: the engine's visibility plus the page's section numbers.

    ``numbers`` are the page numbers of the form's sections (1-based among the sections that have a
    question for the channel: the ``section=`` of the form's URL, stable whatever the answers). The
    progress line counts only the sections shown now.
    """

    def __init__(self, version: ChecklistVersion, channel: str | None, answers: Mapping[str, Answer],
                 section_keys: Sequence[str] = ()):
        self.data = logic_data(version, channel, answers)
        self.visibility: Visibility = visibility(version.to_spec(), answers, channel)
        self.section_keys = list(section_keys)  # the form's sections, by page number - 1

    def question_shown(self, question) -> bool:
        return self.visibility.question_shown(question.key)

    def section_shown(self, section) -> bool:
        return self.visibility.section_shown(section.key)

    def shown_numbers(self) -> list[int]:
        return [i + 1 for i, key in enumerate(self.section_keys) if self.visibility.section_shown(key)]

    def position(self, number: int) -> int | None:
        """The 1-based place of page ``number`` among the shown sections (None: hidden now)."""
        shown = self.shown_numbers()
        return shown.index(number) + 1 if number in shown else None

    def total(self) -> int:
        return len(self.shown_numbers())

    def previous(self, number: int) -> int | None:
        return next((n for n in reversed(self.shown_numbers()) if n < number), None)

    def next(self, number: int) -> int | None:
        return next((n for n in self.shown_numbers() if n > number), None)


def answers_by_key(version: ChecklistVersion, answers_by_question_id: Mapping[int, object]) -> dict[str, Answer]:
    """Stored answer rows (keyed by question id, with ``value``, ``na``, ``comment``) as the engine's."""
    keys = {q.id: q.key for q in version.questions()}
    return {
        keys[qid]: Answer(value=row.value, na=bool(row.na), comment=getattr(row, "comment", "") or "")
        for qid, row in answers_by_question_id.items() if qid in keys
    }


def form_logic(version: ChecklistVersion, answers_by_question_id: Mapping[int, object], channel: str | None,
               form_sections: Sequence = ()) -> FormLogic:
    """Template helper of the evaluator's form: ``form_logic(visit.checklist_version, answers,
    visit.channel, sections)`` with the stored answers by question id and the form's sections."""
    logic = FormLogic(version, channel, answers_by_key(version, answers_by_question_id),
                      [fs.section.key for fs in form_sections])
    logic.data["pages"] = [{"number": fs.number, "key": fs.section.key, "title": fs.title} for fs in form_sections]
    return logic
