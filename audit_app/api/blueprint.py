"""The one ``/api/v1`` blueprint; every module of the package adds its routes to it."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api", __name__, url_prefix="/api/v1", description="Outside-eye audit API v1")

#: the largest page
MAX_LIMIT = 200
