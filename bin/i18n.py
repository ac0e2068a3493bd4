"""Extract and update the translation catalogues.

Usage: .venv/bin/python bin/i18n.py [update [PACKAGE] | check | fill [PACKAGE] < translations.json]

PACKAGE is a domain package name (``checklists``) or ``core`` for the shared catalogue.

Each domain package ``audit_app/<pkg>`` keeps its catalogue in ``audit_app/<pkg>/translations``
covering ``audit_app/<pkg>/**.py`` and ``templates/<pkg>/**``; ``audit_app/translations`` covers
everything else (the factory, core, the base layout, errors, macros). ``check`` only reports
untranslated or fuzzy Finnish messages and exits 1 when there are any; ``fill`` reads a
JSON object {msgid: Finnish text} and writes it into the catalogues that hold those messages.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
METHODS = [("audit_app/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}


def owner(path: str) -> str:
    parts = Path(path).parts
    if parts[0] == "audit_app" and len(parts) > 2 and (ROOT / "audit_app" / parts[1] / "views.py").exists():
        return parts[1]
    if parts[0] == "templates" and len(parts) > 2 and (ROOT / "audit_app" / parts[1] / "views.py").exists():
        return parts[1]
    return ""


def catalogue_dir(pkg: str) -> Path:
    return ROOT / "audit_app" / pkg / "translations" if pkg else ROOT / "audit_app" / "translations"


def extract() -> dict[str, Catalog]:
    catalogues: dict[str, Catalog] = {}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {}}
    ):
        if filename.startswith(("tests", "bench", "migrations", ".venv")):
            continue
        pkg = owner(filename)
        cat = catalogues.setdefault(pkg, Catalog(project="audit-app", charset="utf-8"))
        cat.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalogues


def update(only: str | None = None) -> None:
    for pkg, template in extract().items():
        if only is not None and pkg != only:
            continue
        for lang in ("fi", "en"):
            po_path = catalogue_dir(pkg) / lang / "LC_MESSAGES" / "messages.po"
            po_path.parent.mkdir(parents=True, exist_ok=True)
            if po_path.exists():
                with po_path.open("rb") as fh:
                    catalog = read_po(fh, locale=lang)
                catalog.update(template, no_fuzzy_matching=True)
                catalog.obsolete.clear()
            else:
                catalog = Catalog(locale=lang, project="audit-app", charset="utf-8")
                catalog.update(template, no_fuzzy_matching=True)
            with po_path.open("wb") as fh:
                write_po(fh, catalog, width=100, omit_header=False, sort_output=False)
            print(f"updated {po_path.relative_to(ROOT)} ({len(catalog)} messages)")


def missing_finnish(templates: list[Catalog] | None = None) -> list[str]:
    """Messages used in the code that lack a non-fuzzy Finnish translation anywhere."""
    translated: dict[object, bool] = {}
    for po_path in (ROOT / "audit_app").glob("**/translations/fi/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale="fi")
        for msg in catalog:
            if not msg.id:
                continue
            ok = not msg.fuzzy and (all(msg.string) if isinstance(msg.string, tuple) else bool(msg.string))
            translated[msg.id] = translated.get(msg.id, False) or ok
    problems = []
    for template in templates if templates is not None else extract().values():
        for msg in template:
            if msg.id and not translated.get(msg.id):
                where = ", ".join(f"{f}:{n}" for f, n in msg.locations[:2])
                problems.append(f"{msg.id!r} ({where})")
    return problems


def fill(translations: dict[str, str], only: str | None = None) -> None:
    """Set Finnish translations (msgid -> text, or -> [singular, plural] for a plural message)
    in every fi catalogue that has the msgid."""
    paths = (ROOT / "audit_app").glob("**/translations/fi/LC_MESSAGES/messages.po")
    if only is not None:
        paths = [catalogue_dir("" if only == "core" else only) / "fi" / "LC_MESSAGES" / "messages.po"]
    for po_path in paths:
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale="fi")
        changed = False
        for msg in catalog:
            key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
            if key in translations:
                text = translations[key]  # a list [singular, plural] for a plural message
                msg.string = tuple(text) if isinstance(msg.id, tuple) else text
                msg.flags.discard("fuzzy")
                changed = True
        if changed:
            with po_path.open("wb") as fh:
                write_po(fh, catalog, width=100, sort_output=False)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["fill"]:
        import json

        fill(json.load(sys.stdin), args[1] if len(args) > 1 else None)
        sys.exit(0)
    if sys.argv[1:] == ["check"]:
        problems = missing_finnish()
        print("\n".join(problems) or "all messages translated")
        sys.exit(1 if problems else 0)
    if args[:1] == ["update"]:
        update(("" if args[1] == "core" else args[1]) if len(args) > 1 else None)
        sys.exit(0)
    update()
