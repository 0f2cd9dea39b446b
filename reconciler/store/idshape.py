"""Find job documents named in the id shape before sub-runs existed.

Job ids became `job:<module>:r<run>:s<sub>:p<pass>`; a database that still holds
`job:<module>:r<run>:p<pass>` documents would mix both shapes (and allocate passes
without seeing the old ones), so `db init` refuses it. The check pages through the
changes feed, which both stores serve without any design document installed.
"""

from __future__ import annotations

from reconciler.documents import OLD_JOB_ID
from reconciler.store.interface import Store

PAGE = 5000


def old_shape_job_ids(store: Store, *, enough: int = 3) -> list[str]:
    """Up to `enough` job ids of the old shape (empty when there are none)."""
    found: list[str] = []
    since: str | None = None
    while True:
        page = store.changes(since=since, limit=PAGE)
        for change in page.results:
            if not change.deleted and OLD_JOB_ID.fullmatch(change.id):
                found.append(change.id)
                if len(found) >= enough:
                    return found
        if len(page.results) < PAGE:
            return found
        since = page.last_seq
