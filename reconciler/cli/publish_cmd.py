"""`mcprod publish`: regenerate and publish every RAT version's catalogue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.options import FormatOption, RatRootOption, TextOrJson, parse_rat_roots


def register(app: typer.Typer) -> None:
    @app.command("publish")
    def publish(
        db: Annotated[
            str | None, typer.Option(help="Store URL (else MCPROD_DB, else the repo's SQLite).")
        ] = None,
        repo: Annotated[Path, typer.Option(help="Repository folder.")] = Path("."),
        rat_root: RatRootOption = None,
        out: Annotated[
            Path | None,
            typer.Option(help="Also write legacy production_information_X_Y_Z.py files here."),
        ] = None,
        output_format: FormatOption = TextOrJson.text,
    ) -> None:
        """Publish production_information documents (and design documents); idempotent."""
        # Imported here so that `mcprod --help` stays fast and light.
        from reconciler.cli.progress import spinner
        from reconciler.config.load import require_valid
        from reconciler.publish import prepare, write_catalogues, write_legacy_files
        from reconciler.store.design import ensure_design
        from reconciler.store.open import open_store
        from reconciler.store.url import resolve_db_url

        resolve_db_url(db, repo.resolve())  # an empty MCPROD_DB fails before any work
        roots = parse_rat_roots(rat_root, repo)
        # Module checks are the catalogue's own business here: `prepare` reports a
        # module the new catalogue drops in publish's words, naming the campaign.
        with spinner("publish: generating the catalogues"):
            declared = require_valid(repo)
            catalogues = prepare(declared, roots)
        store = open_store(db, repo.resolve())
        try:
            with spinner("publish: writing to the store"):
                design_changes = ensure_design(store)
                outcomes = write_catalogues(store, catalogues, declared.commit)
        finally:
            store.close()
        legacy_files = write_legacy_files(catalogues, out) if out is not None else []
        if output_format == "json":
            typer.echo(
                json.dumps(
                    {
                        "store": store.display_url,
                        "design": design_changes,
                        "catalogues": [o.__dict__ for o in outcomes],
                        "legacy_files": [str(p) for p in legacy_files],
                    },
                    indent=2,
                )
            )
            return
        design_text = ", ".join(design_changes) if design_changes else "unchanged"
        typer.echo(f"store {store.display_url}: design documents {design_text}")
        for outcome in outcomes:
            typer.echo(
                f"production_information:{outcome.rat_version}: {outcome.status} "
                f"({outcome.module_count} modules, sha256 {outcome.content_hash[:12]})"
            )
        for path in legacy_files:
            typer.echo(f"wrote {path}")
