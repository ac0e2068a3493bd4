"""Idempotent demo data for ``flask --app wsgi demo``. Flushes; the command commits.

Accounts come first; then each domain package that has a ``demo.py`` adds its own data with
``load(ctx)``, in the order of the architecture (checklists, visits, evidence, submissions,
reports). ``ctx`` carries what earlier loaders made (clients, users, ...).
"""

from __future__ import annotations

import importlib
import importlib.util

from sqlalchemy import select

from .accounts import operations as accounts
from .accounts.models import Client, User
from .extensions import db

DEMO_PASSWORD = "demo-password"

CLIENTS = ("Pohjolan Pankki", "Järvenrannan Hotellit")

USERS = (
    ("admin", "admin@demo.example", "Aino Admin", None, "fi"),
    ("evaluator", "eva@demo.example", "Eeva Arvioija", None, "fi"),
    ("evaluator", "evan@demo.example", "Evan Evaluator", None, "en"),
    ("client", "client@bank.demo.example", "Kalle Pankki", "Pohjolan Pankki", "fi"),
    ("client", "client@hotel.demo.example", "Helena Hotelli", "Järvenrannan Hotellit", "en"),
)

PACKAGES = ("checklists", "visits", "evidence", "submissions", "reports")


def _client(name: str) -> Client:
    client = db.session.scalar(select(Client).where(Client.name == name))
    return client or accounts.create_client(name)


def load_demo() -> dict:
    clients = {name: _client(name) for name in CLIENTS}
    users = {}
    for role, email, name, client_name, language in USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = accounts.create_user(
                email=email, name=name, role=role, password=DEMO_PASSWORD,
                client=clients.get(client_name), language=language, must_change_password=False,
            )
        users[email] = user
    db.session.flush()
    ctx = {
        "password": DEMO_PASSWORD,
        "users": [(u[0], u[1]) for u in USERS],
        "clients": clients,
        "user_objects": users,
        "admin": users["admin@demo.example"],
        "evaluators": [users["eva@demo.example"], users["evan@demo.example"]],
    }
    for package in PACKAGES:
        name = f"{__package__}.{package}.demo"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).load(ctx)
            db.session.flush()
    return ctx
