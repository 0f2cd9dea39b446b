"""A process that races another on one document, in lock step with the test.

Protocol on stdin/stdout, one line each: the test sends `read`, the worker reads the
document and answers `ready`; once both workers are ready the test sends `write`,
and the worker tries its compare-and-set and answers `won` or `lost`. Both workers
therefore hold the same revision when they write: exactly one may win.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reconciler.errors import Conflict
from reconciler.store.open import open_store


def main(url: str, doc_id: str, name: str) -> None:
    store = open_store(url, Path.cwd())
    doc = None
    for line in sys.stdin:
        command = line.strip()
        if command == "read":
            doc = store.get(doc_id)
            print("ready", flush=True)
        elif command == "write" and doc is not None:
            try:
                store.update({**doc, "winner": name, "wins": doc.get("wins", 0) + 1})
                print("won", flush=True)
            except Conflict:
                print("lost", flush=True)
    store.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
