"""Every output file of a label, from the `data_by_label` view (legacy grabber's listing).

Data documents are untrusted input: each file's fields are checked (types, a plain
file name, a module name, a URL with a known scheme) before anyone lists or
fetches it; a file that fails the check is reported, never used.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from reconciler.documents import Doc
from reconciler.store.interface import Store

PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
SCHEMES = frozenset({"file", "srm", "root", "xroot", "davs", "dav", "gsiftp", "https", "http"})
NTUPLE_TYPES = frozenset({"ntuple", "other_ntuple"})


@dataclass(frozen=True)
class OutputFile:
    name: str
    url: str
    size: int
    adler32: str
    module: str
    run: int
    sub_run: int
    pass_: int
    data_type: str
    job_id: str | None

    @property
    def is_ntuple(self) -> bool:
        return self.data_type in NTUPLE_TYPES or self.name.endswith(".ntuple.root")


def _int(entry: Mapping[str, Any], doc: Doc, *names: str) -> int | None:
    for source in (entry, doc):
        for name in names:
            value = source.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def check_file(entry: Any, doc: Doc) -> OutputFile | str:
    """The file as a typed record, or why it cannot be trusted."""
    where = f"{doc.get('_id')}"
    if not isinstance(entry, dict):
        return f"{where}: a file entry is not an object"
    name, url, adler = entry.get("name"), entry.get("url"), entry.get("adler32")
    module = entry.get("module", doc.get("module"))
    if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name) or ".." in name:
        return f"{where}: file name {name!r} is not a plain file name"
    if not isinstance(module, str) or not PLAIN_NAME.fullmatch(module) or ".." in module:
        return f"{where}: module {module!r} is not a plain name"
    if not isinstance(url, str) or urlparse(url).scheme.lower() not in SCHEMES:
        return f"{where}: {name}: URL {url!r} has no known scheme"
    size = entry.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return f"{where}: {name}: size {size!r} is not a byte count"
    if not isinstance(adler, str) or not re.fullmatch(r"[0-9a-fA-F]{1,8}", adler):
        return f"{where}: {name}: adler32 {adler!r} is not 8 hex digits"
    run, pass_ = _int(entry, doc, "run"), _int(entry, doc, "pass")
    if run is None or pass_ is None:
        return f"{where}: {name}: no run or pass number"
    sub_run = _int(entry, doc, "sub_run", "subrun", "sub") or 0
    data_type = entry.get("data_type", doc.get("data_type"))
    job_id = entry.get("job_id", doc.get("job_id"))
    return OutputFile(
        name=name, url=url, size=size, adler32=adler.lower().rjust(8, "0"), module=module,
        run=run, sub_run=sub_run, pass_=pass_,
        data_type=data_type if isinstance(data_type, str) else "other",
        job_id=job_id if isinstance(job_id, str) else None,
    )


@dataclass(frozen=True)
class Listing:
    files: tuple[OutputFile, ...]
    rejected: tuple[str, ...]  # files whose document fields could not be trusted


def list_outputs(store: Store, label: str) -> Listing:
    rows = store.view("mcprod/data_by_label", startkey=[label], endkey=[label, {}],
                      include_docs=True)
    files: dict[str, OutputFile] = {}
    rejected: list[str] = []
    seen: set[str] = set()
    for row in rows:
        doc = row.doc
        if doc is None or str(doc.get("_id")) in seen:
            continue
        seen.add(str(doc["_id"]))
        entries = doc.get("files")
        for entry in entries if isinstance(entries, list) else []:
            checked = check_file(entry, doc)
            if isinstance(checked, str):
                rejected.append(checked)
            else:
                files.setdefault(checked.url, checked)
    ordered = sorted(files.values(),
                     key=lambda f: (f.module, f.run, f.sub_run, f.pass_, f.name))
    return Listing(tuple(ordered), tuple(rejected))


@dataclass(frozen=True)
class FileFilter:
    module: str | None = None  # glob
    runs: tuple[int, int] | None = None
    pass_: int | None = None  # None: every pass
    latest_pass: bool = False  # per (module, run): only the highest pass
    ntuple_only: bool = False


def select_files(files: Iterable[OutputFile], wanted: FileFilter) -> list[OutputFile]:
    """The files the filter keeps, in listing order (pure)."""
    kept = [
        f for f in files
        if (wanted.module is None or fnmatch.fnmatchcase(f.module, wanted.module))
        and (wanted.runs is None or wanted.runs[0] <= f.run <= wanted.runs[1])
        and (wanted.pass_ is None or f.pass_ == wanted.pass_)
        and (not wanted.ntuple_only or f.is_ntuple)
    ]
    if wanted.latest_pass:
        latest: dict[tuple[str, int], int] = {}
        for f in kept:
            latest[(f.module, f.run)] = max(latest.get((f.module, f.run), f.pass_), f.pass_)
        kept = [f for f in kept if f.pass_ == latest[(f.module, f.run)]]
    return kept
