"""`mcprod db init`: create the state database if missing and install its design documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.options import FormatOption, TextOrJson
from reconciler.errors import McprodError
from reconciler.store.design import ensure_design
from reconciler.store.idshape import old_shape_job_ids
from reconciler.store.open import init_store

db_app = typer.Typer(help="Manage the state database.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


@db_app.command("init")
def init(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (http(s)://host:5984/<db> or sqlite:///abs/path); default:"
            " $MCPROD_DB, else sqlite:///<repo>/.mcprod/state.db.",
        ),
    ] = None,
    repo: Annotated[
        Path, typer.Option("--repo", help="Repository whose .mcprod/ holds the default database.")
    ] = Path("."),
    output_format: FormatOption = TextOrJson.text,
) -> None:
    """Create the database if it is missing and write the design documents that changed.

    Idempotent: a second run reports that everything is up to date and writes nothing.
    A database holding job documents of the old id shape (before sub-runs) is refused.

    Example: mcprod db init --db https://couch.example.org:6984/mcprod
    """
    store, created = init_store(db, repo)
    try:
        where = store.display_url
        old = old_shape_job_ids(store)
        if old:
            raise McprodError(
                f"{where}: holds job documents named job:<module>:r<run>:p<pass> (e.g. {old[0]});"
                " this mcprod names jobs job:<module>:r<run>:s<sub>:p<pass> and will not mix"
                " both: use a new database"
            )
        changed = ensure_design(store)
    finally:
        store.close()
    if output_format is TextOrJson.json:
        typer.echo(json.dumps({"database": where, "created": created, "changed": changed}))
        return
    typer.echo(f"{where}: {'database created' if created else 'database exists'}")
    for line in changed:
        typer.echo(line)
    if not changed:
        typer.echo("design documents up to date")
