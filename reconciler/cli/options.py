"""Options shared by several commands, parsed in one place."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.documents import canonical_status


class TextOrJson(StrEnum):
    """`--format` of the commands that print for people or for scripts; an enum so a bad
    value is the same usage error (exit 2) everywhere."""

    text = "text"
    json = "json"


FormatOption = Annotated[TextOrJson, typer.Option("--format", help="text or json.")]

RatRootOption = Annotated[
    list[str] | None,
    typer.Option(
        "--rat-root",
        metavar="VERSION=DIR",
        help="A RAT release tree for that version (repeatable).",
    ),
]


def parse_rat_roots(values: Sequence[str] | None, repo: Path | None = None) -> dict[str, Path]:
    """`--rat-root VERSION=DIR` values -> {version: DIR}.

    A malformed pair, a missing folder, or (given the repository) a version with no
    rat-versions file is a usage error (exit 2).
    """
    roots: dict[str, Path] = {}
    for value in values or ():
        version, sep, folder = value.partition("=")
        if not sep or not version or not folder:
            raise typer.BadParameter(
                f"{value!r}: expected VERSION=DIR, e.g. 6.18.7=/path/to/rat",
                param_hint="--rat-root",
            )
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise typer.BadParameter(f"{value!r}: {path} is not a folder", param_hint="--rat-root")
        declared = repo is None or not repo.is_dir()
        if not declared and repo is not None:
            declared = (repo / "rat-versions" / f"{version}.yaml").is_file()
        if not declared:
            raise typer.BadParameter(
                f"{version}: no rat-versions/{version}.yaml in the repository",
                param_hint="--rat-root",
            )
        roots[version] = path.resolve()
    return roots


def job_statuses(values: Sequence[str] | None, option: str = "--status") -> tuple[str, ...]:
    """Statuses typed on the command line, in mcprod's one spelling.

    `canceled` is accepted (it is what Slurm users and US English write) with a hint on
    stderr, so scripts keep working and people learn the spelling the documents use.
    """
    statuses = []
    for value in values or ():
        spelled = canonical_status(value)
        if spelled != value:
            hint = f"note: {option} {value}: mcprod spells it {spelled}; using {spelled}"
            typer.echo(hint, err=True)
        statuses.append(spelled)
    return tuple(statuses)
