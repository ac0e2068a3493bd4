"""Rate limits per token (Flask-Limiter): on Redis when ``REDIS_URL`` is set, in memory otherwise.

Every API answer carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
(seconds until the window starts again); past the limit the answer is a 429 problem with
``Retry-After``.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_login import current_user

from .blueprint import blp


def _key() -> str:
    token = g.get("api_token")
    if token is None and current_user.is_authenticated:  # loads the token's user first
        token = g.get("api_token")
    if token is not None:
        return f"token:{token.id}"
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request.remote_addr}"


limiter = Limiter(key_func=_key, default_limits=[], headers_enabled=True, strategy="fixed-window")


def _limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def init_limiter(app: Flask) -> None:
    app.config.setdefault("API_RATE_LIMIT", "300 per minute")
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADER_LIMIT", "RateLimit-Limit")
    app.config.setdefault("RATELIMIT_HEADER_REMAINING", "RateLimit-Remaining")
    app.config.setdefault("RATELIMIT_HEADER_RESET", "RateLimit-Reset")
    limiter.init_app(app)
    limiter.limit(_limit, key_func=_key)(blp)


@blp.after_request
def reset_in_seconds(response):
    """Flask-Limiter gives the reset as a moment (epoch seconds); the RateLimit header field counts seconds."""
    reset = response.headers.get("RateLimit-Reset")
    if reset and reset.isdigit() and int(reset) > 10**9:
        response.headers["RateLimit-Reset"] = str(max(0, int(reset) - int(time.time())))
    return response
