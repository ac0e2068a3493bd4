"""Signals the evidence package sends for higher packages to react to (it imports none of them)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: an admin changed the blurred areas of a photo. Sender: the Photo; keyword arguments: ``user``,
#: ``added`` and ``removed`` (lists of regions). ``submissions`` writes it in the visit's audit trail.
regions_changed = _signals.signal("evidence-regions-changed")
