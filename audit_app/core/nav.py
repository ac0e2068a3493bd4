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


_ITEMS: dict[str, NavItem] = {}


def register_nav(endpoint: str, label, roles: tuple[str, ...], order: int) -> None:
    _ITEMS[endpoint] = NavItem(order, endpoint, label, frozenset(roles))


def nav_items() -> list[tuple[str, object]]:
    if not current_user.is_authenticated:
        return []
    items = sorted((i for i in _ITEMS.values() if current_user.role in i.roles), key=lambda i: i.order)
    return [(i.endpoint, i.label) for i in items]
