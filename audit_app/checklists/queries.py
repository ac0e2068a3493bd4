"""Reads for checklists, also used by the packages after this one (visits, submissions...)."""

from __future__ import annotations

from sqlalchemy import select

from ..core.models import db
from ..scoring import CONDITION_KINDS
from .models import Checklist, ChecklistVersion, Dimension, Question, Section


def dimensions() -> list[Dimension]:
    return list(db.session.scalars(select(Dimension).order_by(Dimension.position, Dimension.code)))


def known_dimensions() -> set[str]:
    return set(db.session.scalars(select(Dimension.code)))


def checklists() -> list[dict]:
    """Every checklist with its latest version, for the designer's list (newest first)."""
    rows = []
    for checklist in db.session.scalars(select(Checklist).order_by(Checklist.id.desc())):
        if not checklist.versions:
            continue
        latest = checklist.versions[-1]
        published = [v for v in checklist.versions if v.status == "published"]
        rows.append({"checklist": checklist, "latest": latest, "published": published[-1] if published else None,
                     "versions": list(checklist.versions)})
    return rows


def published_versions() -> list[ChecklistVersion]:
    """Versions open for new visits (published, not retired), newest first: the visit form's choices."""
    return list(
        db.session.scalars(
            select(ChecklistVersion)
            .where(ChecklistVersion.status == "published")
            .order_by(ChecklistVersion.published_at.desc(), ChecklistVersion.id.desc())
        )
    )


def version_questions_for_channel(version: ChecklistVersion, channel: str | None) -> list[Question]:
    """The version's questions shown on a visit to ``channel``, in checklist order (None: all)."""
    return [q for q in version.questions() if q.applies_to(channel)]


def version_sections_for_channel(version: ChecklistVersion, channel: str | None) -> list[tuple[Section, list]]:
    """(section, its questions for ``channel``) pairs, leaving out sections with none."""
    pairs = []
    for section in version.sections:
        questions = [q for q in section.questions if q.applies_to(channel)]
        if questions:
            pairs.append((section, questions))
    return pairs


def earlier_questions(version: ChecklistVersion, section: Section | None = None, question: Question | None = None,
                      of_section: bool = False) -> list[Question]:
    """The questions a condition of ``question`` (or of ``section`` with ``of_section``) may depend
    on: those earlier in the version's order, of a kind that can drive a condition. A new question
    (None) comes last in its section; a new section (None) comes last in the version."""
    out: list[Question] = []
    for s in version.sections:
        if of_section and section is not None and s.id == section.id:
            break
        for q in s.questions:
            if question is not None and q.id == question.id:
                return out
            if q.kind in CONDITION_KINDS:
                out.append(q)
        if not of_section and section is not None and s.id == section.id:
            break
    return out


def draft_of(checklist: Checklist) -> ChecklistVersion | None:
    return next((v for v in checklist.versions if v.status == "draft"), None)


def find_by_title(title_en: str) -> ChecklistVersion | None:
    """The latest version whose English title is ``title_en`` (for idempotent loaders)."""
    for version in db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.id.desc())):
        if (version.title or {}).get("en") == title_en:
            return version
    return None
