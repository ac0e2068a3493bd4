"""Notifications: webhooks and e-mail, sent from a transactional outbox.

Every event is written to the ``outbox`` table in the transaction of the change that causes it
(receivers of ``visits.signals.status_changed`` and a flush hook, ``operations``), so a commit
and its events stand or fall together. Delivery reads the outbox (``delivery``): RQ workers when
``REDIS_URL`` is set, otherwise a daemon thread in each app process; rows are claimed atomically,
so several processes never send the same row at once. Notices that come from the passing of time
(an action overdue, a visit due tomorrow, the daily digest) and pruning are the periodic check's
(``periodic``); webhooks connect to the address that was checked (``pinned``).
"""
