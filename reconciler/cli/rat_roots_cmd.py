"""`mcprod rat-roots`: the `--rat-root` argument of every declared release found on disk.

Used by the workflows after CVMFS is mounted, so that release locations are derived
in one place (`find_release_root`) rather than in shell. One argument per line, to be
read into an array (`mapfile -t roots < file`), never word-split: a pull request
controls the paths.
"""

from __future__ import annotations

from pathlib import Path

import typer

from reconciler.cli.enqueue_options import RepoOption


def register(app: typer.Typer) -> None:
    @app.command("rat-roots")
    def rat_roots(repo: RepoOption = Path(".")) -> None:
        """Print `--rat-root=VERSION=DIR`, one per line, for each release on disk.

        Versions whose release is not on disk are left out; a repository that does not
        load prints nothing (validate reports its errors).

        Example: mapfile -t roots < <(mcprod rat-roots --repo .); mcprod validate "${roots[@]}"
        """
        from reconciler.catalogue.generate import find_release_root
        from reconciler.config.load import load_repository

        declared, _ = load_repository(repo)
        if declared is None:
            return
        for version, rat in sorted(declared.rat_versions.items()):
            release = find_release_root(rat)
            if release is not None:
                typer.echo(f"--rat-root={version}={release}")
