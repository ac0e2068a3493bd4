"""Clients (admins), their locations and channels, and checklist versions in the checklist file format."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from ..accounts import queries as account_queries
from ..accounts.models import Client
from ..checklists.fileformat import export_doc
from ..checklists.models import ChecklistVersion
from ..core.access import get_for_client, roles
from ..core.models import db
from ..visits import queries as visit_queries
from .blueprint import blp
from .schemas import ChannelOut, ChecklistVersionDoc, ChecklistVersionOut, ClientOut, LocationOut


@blp.route("/clients", methods=["GET"])
@roles("admin", "client")
@blp.response(200, ClientOut(many=True))
def list_clients():
    """Admins: every client. A client user: its own organisation."""
    if current_user.is_admin:
        return account_queries.clients()
    return [get_for_client(Client, current_user.client_id)]


@blp.route("/clients/<int:client_id>", methods=["GET"])
@roles("admin", "client")
@blp.response(200, ClientOut)
def get_client(client_id: int):
    return get_for_client(Client, client_id)


@blp.route("/clients/<int:client_id>/locations", methods=["GET"])
@roles("admin", "client")
@blp.response(200, LocationOut(many=True))
def list_locations(client_id: int):
    client = get_for_client(Client, client_id)
    return visit_queries.locations_for_client(client.id)


@blp.route("/clients/<int:client_id>/channels", methods=["GET"])
@roles("admin", "client")
@blp.response(200, ChannelOut(many=True))
def list_channels(client_id: int):
    client = get_for_client(Client, client_id)
    return visit_queries.client_channels(client.id)


@blp.route("/checklist-versions", methods=["GET"])
@roles("admin")
@blp.response(200, ChecklistVersionOut(many=True))
def list_checklist_versions():
    """Every checklist's versions, drafts included."""
    return list(db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.checklist_id,
                                                                     ChecklistVersion.number)))


@blp.route("/checklist-versions/<int:version_id>", methods=["GET"])
@roles("admin")
@blp.response(200, ChecklistVersionDoc)
def get_checklist_version(version_id: int):
    """The version in the checklist file format (the designer's export; importable as it is)."""
    version = db.session.get(ChecklistVersion, version_id)
    if version is None:
        from flask import abort

        abort(404)
    return export_doc(version)
