"""Print `--rat-root VERSION=DIR` for every declared RAT version whose release is on disk.

Used by the GitHub workflows after CVMFS is mounted, so that the release location is
derived in one place (the catalogue's `find_release_root`) rather than in shell.
CVMFS paths hold no spaces, so the list is printed for plain word splitting.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from reconciler.catalogue.generate import find_release_root
    from reconciler.config.load import load_repository

    root = Path(argv[0]) if argv else Path(".")
    repo, _ = load_repository(root, check_modules=False)
    if repo is None:
        return 0  # validate reports the errors in the next step
    args = []
    for version, rat in sorted(repo.rat_versions.items()):
        release = find_release_root(rat)
        if release is not None:
            args.append(f"--rat-root={version}={release}")
    print(" ".join(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
