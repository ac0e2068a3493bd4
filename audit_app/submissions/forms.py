"""Forms of the review screen and the evaluator's start/submit buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..core.errors import DomainError

MAX_COMMENT = 5000


def _required(message):
    return DataRequired(message=message)


class ReturnForm(FlaskForm):
    comment = TextAreaField(
        _l("Comment for the evaluator"),
        validators=[_required(_l("Write a comment for the evaluator.")),
                    Length(max=MAX_COMMENT, message=_l("At most %(max)d characters.", max=MAX_COMMENT))],
    )


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[_required(_l("Give a reason for rejecting the visit.")),
                    Length(max=MAX_COMMENT, message=_l("At most %(max)d characters.", max=MAX_COMMENT))],
    )


class CorrectForm(FlaskForm):
    question_id = IntegerField(validators=[InputRequired(message=_l("Choose a question."))])
    value = StringField(_l("New answer"), validators=[Optional(), Length(max=MAX_COMMENT)])
    na = BooleanField(_l("N/A"))
    reason = TextAreaField(
        _l("Reason for the correction"),
        validators=[_required(_l("Give a reason for the correction.")),
                    Length(max=MAX_COMMENT, message=_l("At most %(max)d characters.", max=MAX_COMMENT))],
    )


YES = {"yes", "true", "1", "kyllä", "kylla"}
NO = {"no", "false", "0", "ei"}


def parse_form_value(question, raw: str | None):
    """A value typed or chosen in a correction form, as the question's kind stores it.

    Empty means no answer. Raises ``DomainError`` for text that cannot be read as the kind.
    """
    raw = (raw or "").strip()
    if raw == "":
        return None
    kind = question.kind
    if kind == "yes_no":
        if raw.lower() in YES:
            return True
        if raw.lower() in NO:
            return False
        raise DomainError(_("The answer must be yes or no."), field="value")
    if kind == "scale":
        try:
            return int(raw)
        except ValueError:
            raise DomainError(_("The answer must be a whole number."), field="value") from None
    if kind == "number":
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            raise DomainError(_("The answer must be a number."), field="value") from None
        return int(number) if number.is_integer() and abs(number) < 1e15 else number
    if kind == "multi":  # option keys separated by commas: "web, phone"
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


# --- the autosave's JSON ---------------------------------------------------------------------------


class _BadForm(DomainError):
    def __init__(self):  # translated when raised, not on every request (the locale loads the user)
        super().__init__(_("The answer was not sent in the expected form."))


@dataclass(frozen=True)
class AnswerInput:
    """One answer as the form's script sends it (``static/js/form.js``)."""

    question_id: int
    value: object
    na: bool
    comment: str
    client_id: str | None
    answered_at: datetime | None  # the device's time of the answer, UTC; None: not sent


def parse_answer(payload) -> AnswerInput:
    """Read the autosave's JSON; raises ``DomainError`` (a 400) with the user's message."""
    if not isinstance(payload, dict):
        raise _BadForm()
    question_id = payload.get("question_id")
    na = payload.get("na", False)
    comment = payload.get("comment", "")
    if comment is None:
        comment = ""
    client_id = payload.get("client_id")
    if isinstance(question_id, bool) or not isinstance(question_id, int):
        raise _BadForm()
    if not isinstance(na, bool) or not isinstance(comment, str):
        raise _BadForm()
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
        raise _BadForm()
    answered_at = None
    if "answered_at" in payload:
        answered_at = _parse_time(payload["answered_at"])
        if answered_at is None:
            raise DomainError(_("The time of the answer is not a valid date and time."))
    return AnswerInput(question_id=question_id, value=payload.get("value"), na=na, comment=comment,
                       client_id=client_id, answered_at=answered_at)


def saved_reply(saved_at: datetime, client_id: str | None, stale: bool = False) -> dict:
    """The autosave's JSON reply to a saved answer (the view's and the lane's): when the server kept
    it, and the phone's id of the answer, so it can drop it from its queue."""
    body = {"ok": True, "saved_at": saved_at.isoformat() + "Z", "client_id": client_id}
    if stale:
        body["stale"] = True  # a later answer is stored; this one changed nothing
    return body


def _parse_time(raw) -> datetime | None:
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed
