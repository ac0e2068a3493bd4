"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``."""

import sys

from audit_app import create_app
from audit_app.cli import check_database
from audit_app.config import ConfigError

try:
    app = create_app()
    check_database(app)
except ConfigError as exc:
    print(f"Configuration error: {exc}", file=sys.stderr)
    sys.exit(1)
