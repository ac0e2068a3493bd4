"""What a visit report shows beside its scores: the evaluator's free-text (and other unscored)
answers, and every photo of the visit grouped under its question or under the visit as a whole."""

from __future__ import annotations

from ...checklists.kinds import answer_text

#: kinds whose answer is shown as a note under its section (photo questions show their photos instead)
NOTE_KINDS_SKIPPED = ("photo",)


def note(q: dict, a, language: str) -> dict | None:
    """An unscored question's answer as a note ({key, prompt, text, comment}), or None when there is nothing
    to say (unanswered, or a photo question)."""
    if q["kind"] in NOTE_KINDS_SKIPPED or a is None:
        return None
    if a.value in (None, "") and not a.na and not (a.comment or "").strip():
        return None
    text = str(a.value).strip() if q["kind"] == "text" and a.value is not None else answer_text(
        q["kind"], q["config"], a.value, a.na, language)
    return {"key": q["key"], "prompt": q["prompt"], "text": text, "comment": (a.comment or "").strip(),
            "long": q["kind"] == "text"}


def photo_groups(visit_id: int, photos: dict, sections: dict, questions: dict, failed_keys: set[str],
                 whole_visit_label: str) -> list[dict]:
    """Every photo of the visit, by question in checklist order, then those of the visit as a whole.

    ``photos`` is ``{(visit_id, question_id or None): [photo dicts]}``. A group is
    ``{key, prompt, section, photos, with_finding}``; ``with_finding`` marks a failed question's photos,
    which a report shows beside the finding they prove.
    """
    def order(q):
        section = sections.get(q["section_id"], {})
        return (section.get("position", 0), q["position"], q["id"])

    groups, placed = [], set()
    for q in sorted(questions.values(), key=order):
        shown = photos.get((visit_id, q["id"]))
        if not shown:
            continue
        placed.add(q["id"])
        groups.append({"key": q["key"], "prompt": q["prompt"],
                       "section": sections.get(q["section_id"], {}).get("title", ""),
                       "photos": shown, "with_finding": q["key"] in failed_keys})
    whole = [p for (vid, qid), items in photos.items() if vid == visit_id and qid not in placed for p in items]
    if whole:
        whole.sort(key=lambda p: p["id"])
        groups.append({"key": None, "prompt": whole_visit_label, "section": "", "photos": whole,
                       "with_finding": False})
    return groups
