"""`mcprod quickstart`: the whole production on this machine with the embedded defaults."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def quickstart() -> None:
        """Run the example production in examples/quickstart/ until every job is done.

        Copies the example to .mcprod/quickstart/ (SQLite store, local backend,
        file:// storage), runs site cycles until its 12 jobs are completed with
        verified outputs, and prints `mcprod status`. Needs no server and no root.

        Example: mcprod quickstart
        """
        from reconciler.site.quickstart import run_example

        code = run_example()
        if code:
            raise typer.Exit(code)
