"""One home for the words of codes and answers: channels, statuses, trail actions (core.labels),
kinds, units, photo modes and answers as text (checklists.kinds), the same in every template."""

from __future__ import annotations

import pytest
from flask import render_template_string

from audit_app.checklists.kinds import answer_text, kind_label, photo_label, trail_text, unit_label
from audit_app.core.labels import channel_label, trail_action_label, visit_status_label

CHOICE = {"options": [{"key": "quick", "label": {"en": "Quick", "fi": "Nopea"}, "fraction": 1}]}


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def finnish(app):
    with app.test_request_context(headers={"Accept-Language": "fi"}):
        yield


def test_codes_read_as_words_and_unknown_codes_as_they_are(english):
    assert channel_label("web") == "Web self-service"
    assert visit_status_label("in_progress") == "In progress"
    assert trail_action_label("answer_changed") == "Answer changed by the evaluator"
    assert kind_label("yes_no") == "Yes / no" and photo_label("required") == "Photo required"
    assert channel_label("carrier_pigeon") == "carrier_pigeon" and channel_label(None) == ""


def test_an_answer_reads_the_same_wherever_it_is_shown(english):
    assert answer_text("number", {"unit": "minutes"}, 7) == "7 minutes"
    assert answer_text("number", {"unit": "count"}, 3) == "3 pcs"
    assert answer_text("scale", {"max": 5}, 4) == "4 / 5"
    assert answer_text("yes_no", {}, True) == "Yes" and answer_text("yes_no", {}, False) == "No"
    assert answer_text("choice", CHOICE, "quick", language="fi") == "Nopea"
    assert answer_text("choice", CHOICE, "gone") == "gone"
    assert answer_text("scale", {}, None, na=True) == "N/A"
    assert answer_text("text", {}, None) == "–"
    assert trail_text({"value": False, "na": False}) == "No" and trail_text({"value": 1, "na": True}) == "N/A"
    assert trail_text(None) == "–"


def test_units_and_not_applicable_in_finnish(finnish):
    assert [unit_label(u) for u in ("minutes", "count")] == ["minuuttia", "kpl"]
    assert answer_text("number", {"unit": "minutes"}, 7) == "7 minuuttia"
    assert answer_text("yes_no", {}, None, na=True) == "Ei koske"
    assert channel_label("in_person") == "Paikan päällä"


def test_templates_call_the_same_functions_as_globals_and_filters(english):
    page = render_template_string(
        "{{ channel_label('phone') }}|{{ 'phone'|channel_label }}|{{ 'returned'|visit_status_label }}|"
        "{{ unit_label('minutes') }}|{{ answer_text('number', {'unit': 'hours'}, 2) }}"
    )
    assert page == "Phone|Phone|Returned|minutes|2 hours"
