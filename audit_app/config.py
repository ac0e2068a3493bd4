"""Configuration: the only module that reads the environment.

Every setting has an embedded default so that the app runs with no configuration at all:
SQLite and evidence files under ``instance/``, and a secret key generated once into
``instance/secret_key``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """A configuration problem that must stop start-up with one clear line."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


#: Werkzeug hash methods: ``scrypt[:n:r:p]`` or ``pbkdf2[:hash[:iterations]]``
_HASH_METHOD = re.compile(r"scrypt(:\d+:\d+:\d+)?|pbkdf2(:(?P<hash>[a-z0-9_]+)(:\d+)?)?")


def _password_hash_method() -> str:
    """scrypt unless set; a cheap method (e.g. ``pbkdf2:sha256:1``) is a knob for tests only."""
    method = os.environ.get("PASSWORD_HASH_METHOD", "").strip() or "scrypt"
    found = _HASH_METHOD.fullmatch(method)
    if not found or (found["hash"] or "sha256") not in hashlib.algorithms_available:
        raise ConfigError(f"PASSWORD_HASH_METHOD must be a Werkzeug method such as 'scrypt', got {method!r}")
    return method


def _secret_key(instance: Path) -> str:
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: the first writer wins when workers race
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def _database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance / 'audit.sqlite3'}"
    return _engine_url("DATABASE_URL", url)


def _replica_binds() -> dict:
    """``DATABASE_REPLICA_URL``: a read replica (a PostgreSQL hot standby) that dashboards, reports and
    exports read from, as the ``replica`` bind (it owns no tables; ``reports.queries.base.read``
    routes to it). Unset: every read goes to the primary."""
    raw = os.environ.get("DATABASE_REPLICA_URL", "").strip()
    if not raw:
        return {"DATABASE_REPLICA_URL": ""}
    return replica_settings(_engine_url("DATABASE_REPLICA_URL", raw))


def replica_settings(url: str) -> dict:
    """The settings that route report reads to the replica at ``url`` (an engine URL)."""
    options: dict = {"url": url, "pool_pre_ping": True}
    if url.startswith("postgresql"):  # a replica is read-only: say so, so that a misrouted write fails loudly
        options["connect_args"] = {"options": "-c default_transaction_read_only=on"}
    return {"DATABASE_REPLICA_URL": url, "SQLALCHEMY_BINDS": {"replica": options}}


def _engine_url(name: str, url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"{name} is not a valid database URL ({url!r})") from exc
    return url


def load_config() -> dict:
    """Build the configuration mapping from the environment and the embedded defaults."""
    instance = Path(os.environ.get("AUDIT_INSTANCE_PATH", DEFAULT_INSTANCE)).resolve()
    https = _bool(os.environ.get("HTTPS"))
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        **_replica_binds(),  # DATABASE_REPLICA_URL, and with it SQLALCHEMY_BINDS["replica"]
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_HOURS", 12)),
        "WTF_CSRF_TIME_LIMIT": None,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BABEL_DEFAULT_LOCALE": "fi",
        "LANGUAGES": ("fi", "en"),
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "LOGIN_LOCK_MINUTES": _int("LOGIN_LOCK_MINUTES", 15),
        "PASSWORD_HASH_METHOD": _password_hash_method(),
        "STORAGE_BACKEND": os.environ.get("STORAGE_BACKEND", "local"),
        "STORAGE_LOCAL_PATH": os.environ.get("STORAGE_LOCAL_PATH", str(instance / "evidence")),
        "S3_BUCKET": os.environ.get("S3_BUCKET", ""),
        "S3_PREFIX": os.environ.get("S3_PREFIX", ""),
        "S3_REGION": os.environ.get("S3_REGION", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL", ""),
        "MAX_UPLOAD_MB": _int("MAX_UPLOAD_MB", 15),
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        # notifications: e-mail through SMTP_URL (else .eml files in instance/outbox/), links in messages
        # start with PUBLIC_URL; webhooks to private or loopback addresses only with WEBHOOK_ALLOW_PRIVATE
        "SMTP_URL": os.environ.get("SMTP_URL", "").strip(),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "").strip() or "noreply@localhost",
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "").strip().rstrip("/") or "http://localhost:5000",
        "WEBHOOK_ALLOW_PRIVATE": _bool(os.environ.get("WEBHOOK_ALLOW_PRIVATE")),
        # a CA bundle for webhook HTTPS (default: certifi's authorities)
        "WEBHOOK_CA_FILE": os.environ.get("WEBHOOK_CA_FILE", "").strip(),
        # the periodic check (flask notifications tick; the delivery thread runs it every
        # NOTIFY_TICK_SECONDS): finished outbox rows kept this many days, the daily digest's UTC hour
        "NOTIFY_RETENTION_DAYS": _int("NOTIFY_RETENTION_DAYS", 30),
        "NOTIFY_DIGEST_HOUR": _int("NOTIFY_DIGEST_HOUR", 6),
        "NOTIFY_TICK_SECONDS": _int("NOTIFY_TICK_SECONDS", 300),
    }
