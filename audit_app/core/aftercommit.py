"""Work that must wait for the end of the request's transaction.

Views do not commit (``core.transaction`` does, at the edge), so a view that also changes
something outside the database says what to do once the outcome is known: delete stored files
``after_commit`` of the removal that forgets them, or remove freshly stored files
``after_rollback`` of the rows that would have named them. Only the outermost transaction
counts (a savepoint's end is not the request's), and each callback runs at most once.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

_ON_COMMIT = "audit_after_commit"
_ON_ROLLBACK = "audit_after_rollback"


def after_commit(callback: Callable[[], object]) -> None:
    """Call ``callback()`` once the current transaction has committed; never if it rolls back."""
    db.session.info.setdefault(_ON_COMMIT, []).append(callback)


def after_rollback(callback: Callable[[], object]) -> None:
    """Call ``callback()`` if the current transaction ends without committing (a rollback, or
    the session closed by the request's teardown); never once it has committed."""
    db.session.info.setdefault(_ON_ROLLBACK, []).append(callback)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the request's transaction goes on
    session.info.pop(_ON_ROLLBACK, None)
    for callback in session.info.pop(_ON_COMMIT, ()):
        callback()


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction) -> None:
    """The outermost transaction ended without a commit (rolled back, or the session closed)."""
    if transaction.parent is not None:
        return
    session.info.pop(_ON_COMMIT, None)
    for callback in session.info.pop(_ON_ROLLBACK, ()):
        callback()
