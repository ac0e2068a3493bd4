"""Close the loop: targets, self-assessments (read) and corrective actions.

The pages' rules exactly: admins and the client's users read; only the client's managers change
(``improvement.queries.may_change``; anyone else 403); another client's ids are 404. The writes are
improvement's operations; an action's subject is checked by ``improvement.queries.action_subject``.
"""

from __future__ import annotations

from datetime import date

from flask import abort
from flask.views import MethodView
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import Client, User
from ..checklists.models import Question
from ..core.access import get_for_client, roles
from ..core.errors import DomainError
from ..core.models import db
from ..improvement import operations, queries
from ..improvement.models import CorrectiveAction, SelfAssessment, Target
from .blueprint import blp
from .pagination import page
from .schemas import (
    ActionCommentIn,
    ActionDetail,
    ActionEventOut,
    ActionFilterArgs,
    ActionIn,
    ActionOut,
    ActionPage,
    ActionStatusIn,
    PageArgs,
    SelfAnswerOut,
    SelfAssessmentDetail,
    SelfAssessmentOut,
    SelfAssessmentPage,
    TargetIn,
    TargetOut,
    TargetPage,
)

LOOP_ROLES = ("admin", "client")


def _fields(obj, schema, *, skip=()) -> dict:
    return {name: getattr(obj, name) for name in schema().fields if name not in skip}


def _manager_of(client_id: int) -> None:
    if not queries.may_change(current_user, client_id):
        abort(403)


# --- targets --------------------------------------------------------------------------------------


@blp.route("/clients/<int:client_id>/targets", methods=["GET"])
@roles(*LOOP_ROLES)
@blp.arguments(PageArgs, location="query", as_kwargs=True)
@blp.response(200, TargetPage)
def list_targets(client_id: int, cursor, limit):
    """The client's targets for the overall score and the dimensions (per channel or for every channel)."""
    client = get_for_client(Client, client_id)
    rows, next_cursor = page(select(Target).where(Target.client_id == client.id), Target.id, cursor, limit)
    return {"items": [_fields(t, TargetOut) for t in rows], "next_cursor": next_cursor}


@blp.route("/clients/<int:client_id>/targets", methods=["POST"])
@roles(*LOOP_ROLES)
@blp.arguments(TargetIn)
@blp.response(201, TargetOut)
def set_target(data, client_id: int):
    """Set a target from a date (the client's managers); one of the same score, channel and date is replaced."""
    client = get_for_client(Client, client_id)
    _manager_of(client.id)
    target = operations.set_target(client.id, current_user, dimension=data["dimension"], channel=data["channel"],
                                   value=data["value"], applies_from=data["applies_from"])
    return _fields(target, TargetOut)


@blp.route("/targets/<int:target_id>", endpoint="target")
class TargetView(MethodView):
    decorators = [roles(*LOOP_ROLES)]

    @blp.response(200, TargetOut)
    def get(self, target_id: int):
        """One target."""
        return _fields(get_for_client(Target, target_id), TargetOut)

    @blp.response(204)
    def delete(self, target_id: int):
        """Remove a target (the client's managers)."""
        target = get_for_client(Target, target_id)
        _manager_of(target.client_id)
        operations.delete_target(target)
        return None


# --- self-assessments -----------------------------------------------------------------------------


def _assessment_out(sa: SelfAssessment) -> dict:
    data = _fields(sa, SelfAssessmentOut)
    data["dimension_scores"] = dict(sa.dimension_scores or {})
    return data


@blp.route("/clients/<int:client_id>/self-assessments", methods=["GET"])
@roles(*LOOP_ROLES)
@blp.arguments(PageArgs, location="query", as_kwargs=True)
@blp.response(200, SelfAssessmentPage)
def list_self_assessments(client_id: int, cursor, limit):
    """The client's own assessments (drafts and submitted ones), never part of the outside-eye figures."""
    client = get_for_client(Client, client_id)
    rows, next_cursor = page(select(SelfAssessment).where(SelfAssessment.client_id == client.id),
                             SelfAssessment.id, cursor, limit)
    return {"items": [_assessment_out(sa) for sa in rows], "next_cursor": next_cursor}


@blp.route("/self-assessments/<int:assessment_id>", methods=["GET"])
@roles(*LOOP_ROLES)
@blp.response(200, SelfAssessmentDetail)
def get_self_assessment(assessment_id: int):
    """A self-assessment with its answers and, once submitted, its scores."""
    sa = get_for_client(SelfAssessment, assessment_id)
    data = _assessment_out(sa)
    keys = dict(db.session.execute(select(Question.id, Question.key).where(
        Question.version_id == sa.checklist_version_id)).all())
    data["answers"] = [{**_fields(a, SelfAnswerOut, skip=("question_key",)), "question_key": keys.get(a.question_id, "")}
                       for a in sorted(queries.self_answers(sa).values(), key=lambda a: a.question_id)]
    return data


# --- corrective actions ---------------------------------------------------------------------------


def _action_out(action: CorrectiveAction, schema=ActionOut) -> dict:
    data = _fields(action, schema, skip=("overdue", "events"))
    data["overdue"] = action.overdue()
    if schema is ActionDetail:
        data["events"] = [_fields(e, ActionEventOut) for e in queries.history(action)]
    return data


@blp.route("/clients/<int:client_id>/actions", methods=["GET"])
@roles(*LOOP_ROLES)
@blp.arguments(ActionFilterArgs, location="query", as_kwargs=True)
@blp.response(200, ActionPage)
def list_actions(client_id: int, cursor, limit, status, owner_id, location_id, channel, overdue):
    """The client's corrective actions, with the action list's filters."""
    client = get_for_client(Client, client_id)
    filters = queries.ActionFilters(status=status, owner_id=owner_id, location_id=location_id, channel=channel,
                                    overdue=overdue)
    stmt = select(CorrectiveAction).where(*queries.action_conditions(client.id, filters, date.today()))
    rows, next_cursor = page(stmt, CorrectiveAction.id, cursor, limit)
    return {"items": [_action_out(a) for a in rows], "next_cursor": next_cursor}


@blp.route("/clients/<int:client_id>/actions", methods=["POST"])
@roles(*LOOP_ROLES)
@blp.arguments(ActionIn)
@blp.response(201, ActionDetail)
def create_action(data, client_id: int):
    """Create an action (the client's managers) on a released visit's failed question (``visit_id`` and
    ``question_key``) or on a location and one of its most-failed questions (``location_id``, ``question_id``)."""
    client = get_for_client(Client, client_id)
    _manager_of(client.id)
    visit, location, question = queries.action_subject(
        client.id, str(get_locale() or "fi"), visit_id=data["visit_id"], key=data["question_key"],
        location_id=None if data["visit_id"] else data["location_id"], question_id=data["question_id"])
    if question is None:
        raise DomainError(_("Choose one of the location's failed questions."), field="question_id")
    owner = db.session.get(User, data["owner_id"])
    action = operations.create_action(client.id, current_user, question=question, what=data["what"], owner=owner,
                                      due_on=data["due_on"], visit=visit, location=location)
    return _action_out(action, ActionDetail)


@blp.route("/actions/<int:action_id>", methods=["GET"])
@roles(*LOOP_ROLES)
@blp.response(200, ActionDetail)
def get_action(action_id: int):
    """An action with its history (created, status changes by a user or by a visit, comments)."""
    return _action_out(get_for_client(CorrectiveAction, action_id), ActionDetail)


@blp.route("/actions/<int:action_id>/status", methods=["POST"])
@roles(*LOOP_ROLES)
@blp.arguments(ActionStatusIn)
@blp.response(200, ActionDetail)
def move_action(data, action_id: int):
    """Change the status as the action page allows (the client's managers): open, in progress, done, back to
    in progress; a later approved visit verifies or reopens (409 otherwise)."""
    action = get_for_client(CorrectiveAction, action_id)
    _manager_of(action.client_id)
    operations.move_action(action, current_user, data["status"], data["comment"])
    return _action_out(action, ActionDetail)


@blp.route("/actions/<int:action_id>/comments", methods=["POST"])
@roles(*LOOP_ROLES)
@blp.arguments(ActionCommentIn)
@blp.response(201, ActionDetail)
def comment_action(data, action_id: int):
    """Add a comment to an action's history (the client's managers)."""
    action = get_for_client(CorrectiveAction, action_id)
    _manager_of(action.client_id)
    operations.comment_action(action, current_user, data["text"])
    return _action_out(action, ActionDetail)
