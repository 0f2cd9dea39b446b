"""Write several files as one step: all of them or, on any failure, none."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import McprodError


def write_all(files: Mapping[Path, str]) -> None:
    """Each file goes to a temporary file beside it first, then all are renamed into place."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            staged.append((temp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
    except OSError as exc:
        for temp, _ in staged:
            os.unlink(temp)
        raise McprodError(f"cannot write {exc.filename or 'a file'}: {exc.strerror}") from None
    for temp, path in staged:
        os.replace(temp, path)
