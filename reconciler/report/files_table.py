"""`mcprod files LABEL`: a label's outputs as text, JSON or bare URLs (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.overview.files import OutputFile

HEADER = ("name", "size", "adler32", "module", "run", "sub", "pass", "url")


def file_as_json(f: OutputFile) -> dict[str, object]:
    return {
        "name": f.name, "url": f.url, "size": f.size, "adler32": f.adler32,
        "module": f.module, "run": f.run, "sub_run": f.sub_run, "pass": f.pass_,
        "data_type": f.data_type, "job_id": f.job_id,
    }


def render_files(files: Sequence[OutputFile], output_format: str) -> str:
    if output_format == "json":
        return json.dumps([file_as_json(f) for f in files], indent=2) + "\n"
    if output_format == "urls":
        return "".join(f"{f.url}\n" for f in files)
    if not files:
        return "no files\n"
    rows = [list(HEADER)] + [
        [f.name, str(f.size), f.adler32, f.module, str(f.run), str(f.sub_run), str(f.pass_),
         f.url]
        for f in files
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER) - 1)]
    lines = [
        "  ".join(c.rjust(w) if i in (1, 4, 5, 6) else c.ljust(w)
                  for i, (c, w) in enumerate(zip(r[:-1], widths, strict=True))) + "  " + r[-1]
        for r in rows
    ]
    total = sum(f.size for f in files)
    lines.append(f"{len(files)} files, {total} bytes")
    return "\n".join(lines) + "\n"


def size_text(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"
