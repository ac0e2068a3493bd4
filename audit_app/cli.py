"""``flask`` commands, in groups by what they serve. Each command owns its commit.

    flask users create --email ... --name ... --role admin [--client NAME] [--password-stdin]
    flask checklists import FILE [--publish]
    flask checklists export VERSION_ID [-o FILE]
    flask evidence cleanup [--dry-run] [--older-than-minutes N]
    flask evidence redact [--no-wait]
    flask reports rebuild-rollups [--client NAME]
    flask demo
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from .config import ConfigError
from .extensions import db


def check_database(app: Flask) -> None:
    """Stop start-up with one clear line when the database URL is wrong or unreachable."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])  # already validated by config
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
            where = url.render_as_string(hide_password=True)
            raise ConfigError(f"cannot reach the database {where}: {reason}") from exc


users_cli = AppGroup("users", help="Sign-in accounts.")
checklists_cli = AppGroup("checklists", help="Checklist files (docs/checklist-format.md).")
evidence_cli = AppGroup("evidence", help="Stored evidence photos.")
reports_cli = AppGroup("reports", help="Dashboards and reports.")


def register_cli(app: Flask) -> None:
    for command in (users_cli, checklists_cli, evidence_cli, reports_cli, demo_command):
        app.cli.add_command(command)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["admin", "evaluator", "client"]), required=True)
@click.option("--client", "client_name", help="Client name, for client users.")
@click.option("--language", type=click.Choice(["fi", "en"]), default="fi", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email, name, role, client_name, language, password_stdin):
    """Create a user. The password is read from a prompt, or from stdin."""
    from .accounts import operations
    from .accounts.models import Client
    from .core.errors import DomainError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.ClickException("The password must be at least 10 characters long.")
    client = None
    if client_name:
        client = db.session.scalar(select(Client).where(Client.name == client_name))
        if client is None:
            raise click.ClickException(f"No client named {client_name!r}.")
    try:
        user = operations.create_user(
            email=email, name=name, role=role, password=password, client=client,
            language=language, must_change_password=False,
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}")


@checklists_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--publish", is_flag=True, help="Publish the imported version at once.")
def checklist_import_command(file, publish):
    """Import a checklist file as a new checklist."""
    from pathlib import Path

    from .checklists import fileformat, operations
    from .core.errors import DomainError

    try:
        doc = fileformat.parse_upload(Path(file).read_bytes())
        version = fileformat.import_doc(doc)
        if publish:
            operations.publish_checked(version)
    except operations.ValidationFailed as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s); nothing was imported.") from exc
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"Imported checklist {version.checklist_id} version {version.number} "
               f"(version id {version.id}, {version.status}).")


@checklists_cli.command("export")
@click.argument("version_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file.")
def checklist_export_command(version_id, output):
    """Export a checklist version as JSON (to standard output or a file)."""
    from pathlib import Path

    from .checklists import fileformat
    from .checklists.models import ChecklistVersion

    version = db.session.get(ChecklistVersion, version_id)
    if version is None:
        raise click.ClickException(f"No checklist version {version_id}.")
    body = fileformat.dumps(fileformat.export_doc(version))
    if output:
        Path(output).write_text(body, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(body, nl=False)


@evidence_cli.command("cleanup")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option("--older-than-minutes", type=click.IntRange(min=0), default=60, show_default=True,
              help="Grace period: younger objects may belong to an upload in progress.")
def evidence_cleanup_command(dry_run, older_than_minutes):
    """List and remove stored photo objects that no photo refers to."""
    from .evidence.operations import delete_objects, find_orphans
    from .evidence.storage import get_storage

    storage = get_storage()
    orphans = find_orphans(storage, older_than_minutes)
    for key in orphans:
        click.echo(key)
    if not dry_run:
        delete_objects(storage, orphans)
    verb = "would be removed" if dry_run else "removed"
    click.echo(f"{len(orphans)} unreferenced object(s) {verb}.")


@evidence_cli.command("redact")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Without REDIS_URL: redact here and wait (a web process's thread may be gone).")
def evidence_redact_command(wait):
    """Queue every photo whose faces and plates are not blurred yet (pending or failed)."""
    from flask import current_app

    from .evidence import jobs, queries
    from .evidence.models import Photo
    from .evidence.operations import retry_redaction

    ids = queries.redaction_backlog()
    for photo_id in ids:
        retry_redaction(db.session.get(Photo, photo_id))
    db.session.commit()
    app = current_app._get_current_object()
    for photo_id in ids:
        jobs.submit(app, photo_id)
    if wait:
        jobs.drain(timeout=3600)
    click.echo(f"{len(ids)} photo(s) queued for blurring.")


@reports_cli.command("rebuild-rollups")
@click.option("--client", "client_name", help="Only this client (by name); all clients by default.")
def rebuild_rollups_command(client_name):
    """Recompute the dashboard's rollups from the approved visits (idempotent)."""
    from .accounts.models import Client
    from .reports import rollups

    client_id = None
    if client_name:
        client_id = db.session.scalar(select(Client.id).where(Client.name == client_name))
        if client_id is None:
            raise click.ClickException(f"No client named {client_name!r}.")
    counted = rollups.rebuild(client_id)
    db.session.commit()
    click.echo(f"Rollups rebuilt from {counted} approved visits.")


@click.command("demo")
@with_appcontext
def demo_command():
    """Load idempotent demo data and print the demo logins."""
    from .demo import load_demo

    logins = load_demo()
    db.session.commit()
    click.echo(f"Demo data is ready. Demo logins (password for all: {logins['password']}):")
    for role, email in logins["users"]:
        click.echo(f"  {role:<10} {email}")
