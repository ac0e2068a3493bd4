"""Navigation by role. Each domain package registers its own entries at import time."""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    order: int
    endpoint: str
    label: object  # a lazy string
    roles: frozenset[str]
    setup: bool = False


_ITEMS: dict[str, NavItem] = {}


def register_nav(endpoint: str, label, roles: tuple[str, ...], order: int, *, setup: bool = False) -> None:
    """An entry of the main navigation for ``roles``. ``setup`` entries (the admin's registers of
    clients, users, locations, evaluators...) are grouped under one menu so the bar stays one line."""
    _ITEMS[endpoint] = NavItem(order, endpoint, label, frozenset(roles), setup)


def _mine(setup: bool | None) -> list[tuple[str, object]]:
    if not current_user.is_authenticated:
        return []
    items = sorted((i for i in _ITEMS.values() if current_user.role in i.roles
                    and (setup is None or i.setup == setup)), key=lambda i: i.order)
    return [(i.endpoint, i.label) for i in items]


def nav_items() -> list[tuple[str, object]]:
    """Every entry the current user has (the home page lists them all)."""
    return _mine(None)


def nav_main() -> list[tuple[str, object]]:
    return _mine(False)


def nav_setup() -> list[tuple[str, object]]:
    return _mine(True)
