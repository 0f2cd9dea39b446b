"""`mcprod files LABEL` (list a label's outputs) and `mcprod grab LABEL DEST` (fetch them)."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.enqueue_options import DbOption, RepoOption
from reconciler.cli.progress import progress_bar
from reconciler.cli.reading import reading_store
from reconciler.errors import McprodError
from reconciler.grab import grab as fetch_files
from reconciler.operator import parse_runs
from reconciler.overview.files import FileFilter, Listing, OutputFile, list_outputs, select_files
from reconciler.report.files_table import render_files, size_text


class FilesFormat(StrEnum):
    text = "text"
    json = "json"
    urls = "urls"


LabelArg = Annotated[str, typer.Argument(metavar="LABEL", help="Campaign label (or extra label).")]
ModuleOpt = Annotated[
    str | None, typer.Option("--module", metavar="GLOB", help="Module name or glob.")
]
RunsOpt = Annotated[str | None, typer.Option("--runs", metavar="A-B", help="Run range.")]
PassOpt = Annotated[
    str | None,
    typer.Option("--pass", metavar="latest|N",
                 help="Only pass N, or only the latest pass of each module and run."),
]
NtupleOpt = Annotated[bool, typer.Option("--ntuple-only", help="Only ntuple files.")]


def _filter(module: str | None, runs: str | None, pass_: str | None,
            ntuple_only: bool) -> FileFilter:
    number = None
    if pass_ is not None and pass_ != "latest":
        if not re.fullmatch(r"[0-9]+", pass_):
            raise McprodError(f"--pass {pass_!r}: expected latest or a pass number")
        number = int(pass_)
    return FileFilter(module, parse_runs(runs) if runs else None, number,
                      pass_ == "latest", ntuple_only)


def _selected(label: str, wanted: FileFilter, repo: Path, db: str | None
              ) -> tuple[Listing, list[OutputFile]]:
    with reading_store(db, repo) as store:
        listing = list_outputs(store, label)
        where = store.display_url
    if not listing.files and not listing.rejected:
        raise McprodError(f"no outputs of label {label} in {where}")
    for problem in listing.rejected:
        typer.echo(f"warning: not used (untrusted data document): {problem}", err=True)
    return listing, select_files(listing.files, wanted)


def files(
    label: LabelArg,
    module: ModuleOpt = None,
    runs: RunsOpt = None,
    pass_: PassOpt = None,
    ntuple_only: NtupleOpt = False,
    output_format: Annotated[
        FilesFormat, typer.Option("--format", help="text, json, or urls (one per line).")
    ] = FilesFormat.text,
    repo: RepoOption = Path("."),
    db: DbOption = None,
) -> None:
    """Every output file of a label: name, URL, size, adler32, module, run, sub-run, pass.

    Examples:

      mcprod files water-physics-v2

      mcprod files water-physics-v2 --module 'Water*' --pass latest --format urls
    """
    _, chosen = _selected(label, _filter(module, runs, pass_, ntuple_only), repo, db)
    typer.echo(render_files(chosen, output_format.value), nl=False)


def grab(
    label: LabelArg,
    dest: Annotated[Path, typer.Argument(metavar="DEST", help="Folder to fetch into.")],
    module: ModuleOpt = None,
    runs: RunsOpt = None,
    pass_: PassOpt = None,
    ntuple_only: NtupleOpt = False,
    jobs: Annotated[int, typer.Option("-j", "--jobs", min=1, help="Copies at once.")] = 4,
    gfal: Annotated[
        bool, typer.Option("--gfal", help="Copy file:// URLs with gfal-copy too.")
    ] = False,
    repo: RepoOption = Path("."),
    db: DbOption = None,
) -> None:
    """Fetch a label's outputs into DEST/<Module>/, each verified by size and adler32.

    Resumable: files already in DEST and verified are skipped; a differing copy is
    replaced. Exit 1 lists what could not be fetched.

    Examples:

      mcprod grab water-physics-v2 ./water-v2 -j 8

      mcprod grab water-physics-v2 ./ntuples --ntuple-only --pass latest
    """
    listing, chosen = _selected(label, _filter(module, runs, pass_, ntuple_only), repo, db)
    with progress_bar(f"grab {label}", len(chosen), unit="files") as advance:
        result = fetch_files(chosen, dest, jobs=jobs, use_gfal=gfal, progress=advance)
    for outcome in result.failed:
        typer.echo(f"failed: {outcome.file.url}: {outcome.reason}", err=True)
    typer.echo(
        f"grab {label}: {len(chosen)} files, copied {len(result.copied)}"
        f" ({size_text(result.copied_bytes)}), already present {len(result.present)},"
        f" failed {len(result.failed)} -> {dest}"
    )
    problems = len(result.failed) + len(listing.rejected)
    if problems:
        raise McprodError(f"grab {label}: {problems} files not fetched (listed above)")


def register(app: typer.Typer) -> None:
    app.command("files")(files)
    app.command("grab")(grab)
