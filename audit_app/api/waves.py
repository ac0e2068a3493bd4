"""Waves: create one as the wave page does (one visit per planned location and channel), read it back."""

from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import Client
from ..checklists.models import ChecklistVersion
from ..core.access import get_for_client, roles
from ..core.models import db
from ..visits import operations
from ..visits.models import Visit, Wave
from .blueprint import blp
from .schemas import WaveIn, WaveOut


def wave_out(wave: Wave) -> dict:
    data = {name: getattr(wave, name) for name in WaveOut().fields if name != "visit_ids"}
    data["visit_ids"] = list(db.session.scalars(select(Visit.id).where(Visit.wave_id == wave.id).order_by(Visit.id)))
    return data


@blp.route("/waves", methods=["POST"])
@roles("admin")
@blp.arguments(WaveIn)
@blp.response(201, WaveOut)
def create_wave(data):
    """Create a wave: a visit per (location, channel), evaluators assigned round-robin (a read-write token)."""
    client = get_for_client(Client, data["client_id"])
    locations, evaluators = operations.wave_members(data["location_ids"], data["evaluator_ids"])
    wave = operations.create_wave(
        client=client, name=data["name"], version=db.session.get(ChecklistVersion, data["checklist_version_id"]),
        period_start=data["period_start"], period_end=data["period_end"], channels=data["channels"],
        locations=locations, evaluators=evaluators, scenario=data["scenario"],
    )
    return wave_out(wave)


@blp.route("/waves/<int:wave_id>", methods=["GET"])
@roles("admin")
@blp.response(200, WaveOut)
def get_wave(wave_id: int):
    return wave_out(get_for_client(Wave, wave_id))
