"""What the API reads and writes: marshmallow schemas, the source of the OpenAPI description."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

from ..improvement.models import ACTION_STATUSES
from ..reports.models import SCOPES, STATES
from ..visits.models import CHANNELS, STATUSES
from .blueprint import MAX_LIMIT


class UtcDateTime(fields.DateTime):
    """Stored times are naive UTC; the API writes them with their offset (RFC 3339)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class PageArgs(Schema):
    cursor = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{1,10}$"),
                           metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))


class VisitFilters(PageArgs):
    client_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    location_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    wave_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    updated_since = fields.DateTime(load_default=None, metadata={"description": "ISO 8601; UTC when no offset"})


class VisitOut(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    location_id = fields.Integer(allow_none=True)
    channel = fields.String(required=True)
    client_channel_id = fields.Integer(allow_none=True)
    checklist_version_id = fields.Integer(required=True)
    evaluator_id = fields.Integer(allow_none=True, metadata={"description": "admins only"})
    wave_id = fields.Integer(allow_none=True)
    status = fields.String(required=True)
    due_from = fields.Date(required=True)
    due_to = fields.Date(required=True)
    scenario = fields.String(metadata={"description": "admins and the visit's evaluator only"})
    visited_on = fields.Date(allow_none=True)
    submitted_at = UtcDateTime(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)
    score_overall = fields.Float(allow_none=True)
    score_critical_fail = fields.Boolean()
    updated_at = UtcDateTime(required=True)


class VisitPage(Schema):
    items = fields.List(fields.Nested(VisitOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class VisitIn(Schema):
    client_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    checklist_version_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    evaluator_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    due_from = fields.Date(required=True)
    due_to = fields.Date(required=True)
    location_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    client_channel_id = fields.Integer(load_default=None, allow_none=True,
                                       validate=validate.Range(min=1, max=2**31 - 1))
    scenario = fields.String(load_default="", validate=validate.Length(max=5000))


class ReassignIn(Schema):
    evaluator_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class CancelIn(Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class AnswerOut(Schema):
    question_key = fields.String(required=True)
    section_key = fields.String(required=True)
    value = fields.Raw(allow_none=True, metadata={"description": "as stored: yes/no, a number, option codes, text"})
    na = fields.Boolean(required=True)
    comment = fields.String(required=True)
    fraction = fields.Float(allow_none=True)
    included = fields.Boolean(required=True)
    failed = fields.Boolean(required=True)


class PhotoOut(Schema):
    id = fields.Integer(required=True)
    question_key = fields.String(allow_none=True)
    caption = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "the API's link; it redirects to a link that "
                                                                "expires when the evidence is on S3"})
    thumb_url = fields.String(required=True)


class SectionScoreOut(Schema):
    key = fields.String(required=True)
    dimension = fields.String(required=True)
    weight = fields.Float(required=True)
    score = fields.Float(allow_none=True)
    critical_fail = fields.Boolean(required=True)


class ResultsOut(Schema):
    visit_id = fields.Integer(required=True)
    status = fields.String(required=True)
    overall = fields.Float(allow_none=True)
    critical_fail = fields.Boolean(required=True)
    dimensions = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    sections = fields.List(fields.Nested(SectionScoreOut), required=True)
    answers = fields.List(fields.Nested(AnswerOut), required=True)
    photos = fields.List(fields.Nested(PhotoOut), required=True)


class ClientOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    active = fields.Boolean(required=True)
    redact_photos = fields.Boolean(required=True)


class LocationOut(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    name = fields.String(required=True)
    address = fields.String(required=True)
    city = fields.String(required=True)
    region = fields.String(required=True)
    active = fields.Boolean(required=True)


class ChannelOut(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    channel = fields.String(required=True)
    label = fields.String(required=True)
    contact = fields.String(required=True)
    active = fields.Boolean(required=True)


class ChecklistVersionOut(Schema):
    id = fields.Integer(required=True)
    checklist_id = fields.Integer(required=True)
    number = fields.Integer(required=True)
    status = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class ChecklistVersionDoc(Schema):
    """A version in the checklist file format (``checklists/fileformat.py``), as the export downloads it."""

    class Meta:
        unknown = "include"

    format = fields.Raw(metadata={"description": "the file format's own fields"})


# --- waves -------------------------------------------------------------------------------------

ID = validate.Range(min=1, max=2**31 - 1)


class WaveIn(Schema):
    client_id = fields.Integer(required=True, validate=ID)
    name = fields.String(required=True, validate=validate.Length(max=160))
    checklist_version_id = fields.Integer(required=True, validate=ID)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), required=True,
                           metadata={"description": "one visit per (location, channel); in person needs locations"})
    location_ids = fields.List(fields.Integer(validate=ID), load_default=list)
    evaluator_ids = fields.List(fields.Integer(validate=ID), required=True,
                                metadata={"description": "assigned round-robin, in the order of their names"})
    scenario = fields.String(load_default="", validate=validate.Length(max=5000))


class WaveOut(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    name = fields.String(required=True)
    checklist_version_id = fields.Integer(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    visit_ids = fields.List(fields.Integer(), required=True)


# --- generated reports -------------------------------------------------------------------------



class ReportIn(Schema):
    client_id = fields.Integer(required=True, validate=ID)
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    ref = fields.String(load_default="", validate=validate.Length(max=64),
                        metadata={"description": "the visit id, the location id or the channel code; "
                                                 "empty for a client summary"})
    start = fields.Date(load_default=None, allow_none=True, metadata={"description": "period reports; default: "
                                                                                     "the pages' default period"})
    end = fields.Date(load_default=None, allow_none=True)
    language = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("fi", "en")),
                             metadata={"description": "default: the caller's language"})


class ReportOut(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    scope = fields.String(required=True)
    ref = fields.String(required=True)
    title = fields.String(required=True)
    period_start = fields.Date(allow_none=True, required=True)
    period_end = fields.Date(allow_none=True, required=True)
    language = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    progress = fields.Integer(required=True)
    size_bytes = fields.Integer(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    finished_at = UtcDateTime(allow_none=True, required=True)
    download_url = fields.String(allow_none=True, required=True, metadata={"description": "when done"})


class ReportPage(Schema):
    items = fields.List(fields.Nested(ReportOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


# --- close the loop: targets, self-assessments, corrective actions ----------------------------


class TargetIn(Schema):
    dimension = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "`overall` or a dimension code"})
    channel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHANNELS),
                            metadata={"description": "null: every channel"})
    value = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    applies_from = fields.Date(required=True)


class TargetOut(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    dimension = fields.String(required=True)
    channel = fields.String(allow_none=True, required=True)
    value = fields.Float(required=True)
    applies_from = fields.Date(required=True)
    updated_at = UtcDateTime(required=True)


class TargetPage(Schema):
    items = fields.List(fields.Nested(TargetOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class SelfAssessmentOut(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    channel = fields.String(required=True)
    location_id = fields.Integer(allow_none=True, required=True)
    checklist_version_id = fields.Integer(required=True)
    status = fields.String(required=True)
    submitted_at = UtcDateTime(allow_none=True, required=True)
    assessed_on = fields.Date(allow_none=True, required=True)
    score_overall = fields.Float(allow_none=True, required=True)
    dimension_scores = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), required=True)
    updated_at = UtcDateTime(required=True)


class SelfAnswerOut(Schema):
    question_key = fields.String(required=True)
    value = fields.Raw(allow_none=True)
    na = fields.Boolean(required=True)
    comment = fields.String(required=True)
    fraction = fields.Float(allow_none=True)
    failed = fields.Boolean(required=True)


class SelfAssessmentDetail(SelfAssessmentOut):
    answers = fields.List(fields.Nested(SelfAnswerOut), required=True)


class SelfAssessmentPage(Schema):
    items = fields.List(fields.Nested(SelfAssessmentOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class ActionFilterArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(ACTION_STATUSES))
    owner_id = fields.Integer(load_default=None, validate=ID)
    location_id = fields.Integer(load_default=None, validate=ID)
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    overdue = fields.Boolean(load_default=False)


class ActionIn(Schema):
    what = fields.String(required=True, validate=validate.Length(max=2000))
    owner_id = fields.Integer(required=True, validate=ID, metadata={"description": "an active user of the client"})
    due_on = fields.Date(required=True)
    visit_id = fields.Integer(load_default=None, allow_none=True, validate=ID,
                              metadata={"description": "a released visit: with question_key, its failed question"})
    question_key = fields.String(load_default="", validate=validate.Length(max=64))
    location_id = fields.Integer(load_default=None, allow_none=True, validate=ID,
                                 metadata={"description": "or a location: with question_id, one of its "
                                                          "most-failed questions"})
    question_id = fields.Integer(load_default=None, allow_none=True, validate=ID)


class ActionStatusIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(ACTION_STATUSES),
                           metadata={"description": "as the action page allows; `verified` only by a later visit"})
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


class ActionCommentIn(Schema):
    text = fields.String(required=True, validate=validate.Length(max=5000))


class ActionEventOut(Schema):
    id = fields.Integer(required=True)
    at = UtcDateTime(required=True)
    kind = fields.String(required=True)
    user_id = fields.Integer(allow_none=True, required=True)
    visit_id = fields.Integer(allow_none=True, required=True)
    old_status = fields.String(allow_none=True, required=True)
    new_status = fields.String(allow_none=True, required=True)
    comment = fields.String(required=True)


class ActionOut(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    location_id = fields.Integer(allow_none=True, required=True)
    channel = fields.String(allow_none=True, required=True)
    visit_id = fields.Integer(allow_none=True, required=True)
    checklist_id = fields.Integer(required=True)
    question_id = fields.Integer(required=True)
    question_key = fields.String(required=True)
    what = fields.String(required=True)
    owner_id = fields.Integer(required=True)
    due_on = fields.Date(required=True)
    status = fields.String(required=True)
    overdue = fields.Boolean(required=True)
    done_at = UtcDateTime(allow_none=True, required=True)
    decided_by_visit_id = fields.Integer(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class ActionDetail(ActionOut):
    events = fields.List(fields.Nested(ActionEventOut), required=True)


class ActionPage(Schema):
    items = fields.List(fields.Nested(ActionOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
