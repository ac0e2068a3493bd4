"""What the API reads and writes: marshmallow schemas, the source of the OpenAPI description."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

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
