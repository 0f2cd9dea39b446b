"""`mcprod exactly LABEL`: the legacy `.exactly` lines (`Module Run Pass`) of a campaign.

The legacy file had one line per created pass, whatever the number of sub-runs in
it; `--subruns` adds the sub-run as a fourth column, one line per job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.enqueue_options import DbOption, RepoOption
from reconciler.cli.options import FormatOption, TextOrJson
from reconciler.cli.writing import write_all
from reconciler.errors import McprodError
from reconciler.store.design import ensure_design
from reconciler.store.open import open_store

EXACTLY_VIEW = "mcprod/exactly_by_label"


def exactly_lines(rows: list[tuple[str, int, int, int]], *, subruns: bool = False) -> str:
    """`Module Run Pass` once per (module, run, pass); with `subruns`, `Module Run Pass Sub`
    once per job. `rows` are (module, run, pass, subrun)."""
    if subruns:
        return "".join(f"{m} {r} {p} {s}\n" for m, r, p, s in sorted(set(rows)))
    passes = sorted({(m, r, p) for m, r, p, _ in rows})
    return "".join(f"{module} {run} {pass_}\n" for module, run, pass_ in passes)


def exactly(
    label: Annotated[str, typer.Argument(help="Campaign label.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file instead.")
    ] = None,
    subruns: Annotated[
        bool, typer.Option("--subruns", help="Add the sub-run column: one line per job.")
    ] = False,
    repo: RepoOption = Path("."),
    db: DbOption = None,
    output_format: FormatOption = TextOrJson.text,
) -> None:
    """One `Module Run Pass` line per pass of the campaign, sorted by module, run, pass.

    --subruns adds the sub-run: one `Module Run Pass Sub` line per job. --format json
    prints the same rows as [{"module", "run", "pass"(, "subrun")}] (or, with -o, what
    was written).

    Example: mcprod exactly water-physics-v2 -o water-physics-v2.exactly
    """
    if output is not None and not output.parent.resolve().is_dir():
        raise McprodError(f"-o {output}: folder {output.parent} does not exist")
    store = open_store(db, repo)
    try:
        ensure_design(store)
        found = store.view(EXACTLY_VIEW, startkey=[label], endkey=[label, {}], reduce=False)
        where = store.display_url
    finally:
        store.close()
    if not found:
        raise McprodError(f"exactly: no jobs labelled {label} in {where}")
    found_rows = [(str(r.key[1]), int(r.key[2]), int(r.key[3]), int(r.key[4] or 0))
                  for r in found]
    text = exactly_lines(found_rows, subruns=subruns)
    names = ("module", "run", "pass", "subrun") if subruns else ("module", "run", "pass")
    rows = sorted({row[: len(names)] for row in found_rows})
    if output is not None:
        write_all({output: text})
    if output_format is TextOrJson.json:
        shown: object = (
            {"written": str(output), "lines": len(rows)} if output is not None
            else [dict(zip(names, row, strict=True)) for row in rows]
        )
        typer.echo(json.dumps(shown, indent=1))
    elif output is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"{output}: {len(rows)} lines")


def register(app: typer.Typer) -> None:
    app.command("exactly")(exactly)
