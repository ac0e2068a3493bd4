"""Demo data: the starter checklist, imported and published once (found again by its title)."""

from __future__ import annotations

import json
from pathlib import Path

from . import fileformat, operations, queries

STARTER = Path(__file__).resolve().parent / "starter" / "customer_experience.json"


def starter_doc() -> dict:
    return json.loads(STARTER.read_text(encoding="utf-8"))


def load(ctx: dict) -> None:
    doc = starter_doc()
    version = queries.find_by_title(doc["title"]["en"])
    if version is None:
        version = fileformat.import_doc(doc)
    if version.status == "draft":
        operations.publish_checked(version, ctx.get("admin"))
    ctx["starter_version"] = version
