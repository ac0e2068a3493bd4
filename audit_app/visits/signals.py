"""Signals the visits package sends for higher packages to react to (it imports none of them)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: a visit's status changed (``operations.transition``). Sender: the Visit; keyword arguments:
#: ``old``, ``new``, ``user`` (who changed it, or None), ``action`` (the audit trail's word for it),
#: ``comment`` and ``at`` (when). ``submissions`` writes it in the visit's audit trail.
status_changed = _signals.signal("visit-status-changed")

#: a visit's stored scores were (re)computed (``submissions.operations.compute_and_store_scores``).
#: Sender: the Visit. ``reports`` refreshes its rollups when the visit is approved.
scores_stored = _signals.signal("visit-scores-stored")
