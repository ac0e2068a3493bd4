"""Routes of the checklist designer for tests/test_access_map.py: admins only."""

from __future__ import annotations

from tests.factories import make_version

ADMIN_ONLY = {"admin"}


def _draft(name):
    """A fresh draft of the small checklist per route, so one route's POST cannot spoil another's."""

    def make(world):
        from audit_app.extensions import db

        def build():
            version = make_version(publish=False)
            db.session.commit()
            return {"version_id": version.id, "section_id": version.sections[0].id,
                    "question_id": version.sections[0].questions[0].id}

        return world.once(f"checklists:{name}", build)

    return make


def _args(name, *keys):
    draft = _draft(name)
    return lambda world: {k: draft(world)[k] for k in keys}


def _published(world):
    from audit_app.extensions import db

    def build():
        version = make_version(publish=True)
        db.session.commit()
        return {"version_id": version.id}

    return world.once("checklists:published", build)


def no_args(world):
    return {}


RULES = {
    "checklists.index": (ADMIN_ONLY, no_args),
    "checklists.new": (ADMIN_ONLY, no_args),
    "checklists.import_file": (ADMIN_ONLY, no_args),
    "checklists.dimensions": (ADMIN_ONLY, no_args),
    "checklists.version": (ADMIN_ONLY, _args("version", "version_id")),
    "checklists.version_edit": (ADMIN_ONLY, _args("version_edit", "version_id")),
    "checklists.publish": (ADMIN_ONLY, _args("publish", "version_id")),
    "checklists.new_draft": (ADMIN_ONLY, _published),
    "checklists.retire": (ADMIN_ONLY, _args("retire", "version_id"),
                          {"admin": 409}),  # a draft cannot be retired
    "checklists.export": (ADMIN_ONLY, _args("export", "version_id")),
    "checklists.preview": (ADMIN_ONLY, _args("preview", "version_id")),
    "checklists.section_new": (ADMIN_ONLY, _args("section_new", "version_id")),
    "checklists.section_edit": (ADMIN_ONLY, _args("section_edit", "version_id", "section_id")),
    "checklists.section_delete": (ADMIN_ONLY, _args("section_delete", "version_id", "section_id")),
    "checklists.section_move": (ADMIN_ONLY, _args("section_move", "version_id", "section_id"),
                                {"admin": 400}),  # an empty POST names no direction
    "checklists.question_new": (ADMIN_ONLY, _args("question_new", "version_id", "section_id")),
    "checklists.question_edit": (ADMIN_ONLY, _args("question_edit", "version_id", "question_id")),
    "checklists.question_delete": (ADMIN_ONLY, _args("question_delete", "version_id", "question_id")),
    "checklists.question_move": (ADMIN_ONLY, _args("question_move", "version_id", "question_id"),
                                 {"admin": 400}),
}
