"""Languages: locale selection and catalogue compilation.

Each domain package may keep its own catalogue in ``audit_app/<package>/translations``;
Flask-Babel merges all of them. ``.po`` files are the source; ``.mo`` files are compiled from
them at start-up when missing or older, so a fresh clone needs no separate compile step.
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, has_request_context, request, session
from flask_login import current_user

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def translation_directories() -> list[str]:
    dirs = [PACKAGE_ROOT / "translations"] + sorted(PACKAGE_ROOT.glob("*/translations"))
    return [str(d) for d in dirs if d.is_dir()]


def compile_catalogues() -> None:
    for directory in translation_directories():
        for po_path in Path(directory).glob("*/LC_MESSAGES/*.po"):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as fh:
                catalog = read_po(fh)
            tmp = mo_path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)
            os.replace(tmp, mo_path)


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
