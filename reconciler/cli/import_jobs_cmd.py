"""`mcprod import-jobs`: a legacy production request (jobs.json) -> campaigns/<label>.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from reconciler.cli.options import FormatOption, TextOrJson
from reconciler.cli.writing import write_all
from reconciler.config.legacy_import import (
    ImportOptions,
    campaign_yaml,
    convert_request,
    option_problems,
    parse_request,
)
from reconciler.config.runlist import campaigns_using, read_run_list
from reconciler.errors import Diagnostic, McprodError, sort_diagnostics

RUNLISTS = "runlists"


def register(app: typer.Typer) -> None:
    app.command("import-jobs")(import_jobs)


def import_jobs(
    jobs_file: Annotated[
        Path, typer.Argument(help="The legacy request (jobs.json).", dir_okay=False)
    ],
    label: Annotated[
        str, typer.Option("--label", help="Campaign label: stamped on every job; the file name.")
    ],
    runlist: Annotated[
        Path | None,
        typer.Option(
            "--runlist",
            "-L",
            help="One run list for the run-mode entries (module names ending in Run without "
            "run_numbers), as the legacy -L. A file outside the repository is copied into "
            "runlists/.",
            dir_okay=False,
        ),
    ] = None,
    ratdb_tag: Annotated[
        str | None, typer.Option("--ratdb-tag", "-t", help="Frozen RATDB tag for the campaign.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Campaign file to write (default: "
                     "campaigns/<label>.yaml in the repository).", dir_okay=False),
    ] = None,
    repo: Annotated[
        Path, typer.Option("--repo", help="The repository to import into.", file_okay=False)
    ] = Path("."),
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite an existing campaign or run list file (never a run list another"
            " campaign uses).",
        ),
    ] = False,
    output_format: FormatOption = TextOrJson.text,
) -> None:
    """Turn a legacy production request into a campaign YAML file.

    Example: mcprod import-jobs jobs.json --label water-physics-v2 -L runs.txt -t water-v2
    """
    shown = str(jobs_file)
    options = ImportOptions(label=label, ratdb_tag=ratdb_tag, source_name=jobs_file.name)
    problems = option_problems(options)
    if problems:
        raise McprodError("; ".join(problems))
    text = _read_text(jobs_file)
    target = output if output is not None else repo / "campaigns" / f"{label}.yaml"
    files: dict[Path, str] = {}
    if runlist is not None:
        relative, copy = _place_runlist(runlist, repo, force, f"campaigns/{label}.yaml")
        options = ImportOptions(label, ratdb_tag, relative, jobs_file.name)
        if copy is not None:
            files[repo / relative] = copy
    data, marks, diagnostics = parse_request(text, shown)
    campaign = None
    if marks is not None:
        campaign, diagnostics = convert_request(data, marks, options, shown)
    if campaign is None:
        _fail(diagnostics)
    if target.exists() and not force:
        raise McprodError(f"{target} already exists: pass --force to overwrite it")
    files[target] = campaign_yaml(campaign, jobs_file.name)
    write_all(files)
    if output_format is TextOrJson.json:
        typer.echo(json.dumps({"written": [str(path) for path in files]}))
        return
    for path in files:
        typer.echo(f"wrote {path}")


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise McprodError(f"{path}: cannot read the request: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise McprodError(
            f"{path}:{line}:{column}: not UTF-8 text (byte 0x{raw[exc.start]:02x}): "
            "save the request as UTF-8"
        ) from None


def _place_runlist(
    runlist: Path, repo: Path, force: bool, own_file: str
) -> tuple[str, str | None]:
    """The run list's path relative to the repo, and its text when it must be copied in.

    A campaign may only name run lists inside its repository (so that every site
    sees the same runs); a list from elsewhere is checked and copied to runlists/.
    """
    if not runlist.is_file():
        raise McprodError(f"--runlist {runlist}: no such file")
    runs, problems = read_run_list(runlist)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise McprodError(f"{runlist}:{first.line}:{first.column}: {first.message}{more}")
    if not runs:
        raise McprodError(f"{runlist}: holds no run numbers")
    root = repo.resolve()
    source = runlist.resolve()
    if source.is_relative_to(root):
        return source.relative_to(root).as_posix(), None
    relative = f"{RUNLISTS}/{runlist.name}"
    text = runlist.read_text(encoding="utf-8")
    existing = repo / relative
    if existing.exists() and existing.read_bytes() != text.encode():
        if not force:
            raise McprodError(
                f"{existing} already exists with other runs: rename the run list or pass --force"
            )
        # --force replaces this import's own files, never another campaign's runs.
        users = [user for user in campaigns_using(repo, relative) if user != own_file]
        if users:
            raise McprodError(
                f"{existing} is the run list of {', '.join(users)}: --force would change"
                " that campaign's runs; rename your run list"
            )
    return relative, text


def _fail(diagnostics: list[Diagnostic]) -> NoReturn:
    for diagnostic in sort_diagnostics(diagnostics):
        typer.echo(diagnostic.text(), err=True)
    count = len(diagnostics)
    noun = "error" if count == 1 else "errors"
    typer.echo(f"import-jobs: {count} {noun}; nothing written", err=True)
    raise typer.Exit(1)
