"""Write several files as one step: all of them or, on any failure, none."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import McprodError


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def write_all(files: Mapping[Path, str]) -> None:
    """Each file goes to a temporary file beside it first, then all are renamed into place.

    Files get the mode any new file of the user gets (0666 less the umask): mkstemp
    makes its files 0600, which a shared repository or a colleague's script cannot read.
    """
    staged: list[tuple[str, Path]] = []
    mode = 0o666 & ~_umask()
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            staged.append((temp, path))
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
    except OSError as exc:
        for temp, _ in staged:
            os.unlink(temp)
        raise McprodError(f"cannot write {exc.filename or 'a file'}: {exc.strerror}") from None
    for temp, path in staged:
        os.replace(temp, path)
