"""Monitoring from the site view's rows (reconciler.site.watch): the backend is asked
from the rows, and only the documents of jobs whose state changed are read; a row
that does not look like one of ours never reaches a backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler.backends.base import BackendState
from reconciler.documents import Doc, backend_name, job_id
from reconciler.job.untrusted import Rejected
from reconciler.site.watch import Held, held_from_row, needs_judging, watch
from reconciler.store.interface import Store, ViewRow
from tests.site.support import fresh_store, job_doc


class AnsweringBackend:
    """A backend that answers from a table and records what it was asked (the monitor's
    side of the Backend protocol only)."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def states(self, backend_ids: Sequence[str]) -> dict[str, BackendState]:
        self.asked.extend(backend_ids)
        return {i: BackendState(self.answers[i]) for i in backend_ids if i in self.answers}


class CountingStore:
    """The store, counting the documents read by id."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.read: list[str] = []

    def view(self, *args: Any, **kwargs: Any) -> list[ViewRow]:
        return self.store.view(*args, **kwargs)

    def get_many(self, ids: Sequence[str]) -> list[Doc | None]:
        self.read.extend(ids)
        return self.store.get_many(ids)


def held(run: int, status: str, backend_id: str, **changes: Any) -> dict[str, Any]:
    doc_id = job_id("WaterBi214", run, 0, 1)
    attempt = {"n": 1, "site": "here", "status": status, "backend_id": backend_id}
    fields: dict[str, Any] = {"status": status, "site": "here", "attempt": 1,
                              "backend_id": backend_id, "backend_name": backend_name(doc_id, 1),
                              "attempts": [attempt]}
    return job_doc(run, **{**fields, **changes})


def test_only_the_documents_of_changed_jobs_are_read(store_url: str, tmp_path: Path) -> None:
    store = fresh_store(store_url, tmp_path)
    store.bulk_create([
        held(1, "running", "101"),    # still running: nothing to do
        held(2, "submitted", "102"),  # still queued: nothing to do
        held(3, "submitted", "103"),  # started: the document says submitted
        held(4, "running", "104"),    # finished
        held(5, "running", "105"),    # the backend forgot it
        held(6, "submitted", "--user=root"),  # planted: an option, not an id
        held(7, "running", "107", site="elsewhere"),
    ])
    backend = AnsweringBackend({"101": "running", "102": "pending", "103": "running",
                                "104": "completed"})
    counting = CountingStore(store)
    rejected = Rejected()

    watched = watch(counting, "here", lambda _folder: backend, rejected)  # type: ignore[arg-type]

    assert sorted(backend.asked) == ["101", "102", "103", "104", "105"]
    assert sorted(counting.read) == sorted(
        job_id("WaterBi214", run, 0, 1) for run in (3, 4, 5, 6)
    )
    assert sorted(doc["run"] for doc in watched.jobs) == [3, 4, 5]
    assert watched.unchanged == 2
    assert watched.states[job_id("WaterBi214", 5, 0, 1)].state == "unknown"
    assert list(rejected.lines.values()) == [
        "job document 'job:WaterBi214:r6:s0:p1' skipped: backend_id: '--user=root'"
        " is not a batch-system job id"
    ]
    store.close()


def test_attempts_from_another_work_folder_go_to_that_folders_backend(
    store_url: str, tmp_path: Path
) -> None:
    store = fresh_store(store_url, tmp_path)
    moved = held(1, "running", "7")
    moved["attempts"][0]["work_dir"] = "/other/folder"
    store.bulk_create([moved, held(2, "running", "7")])  # the same id in two folders
    ours = AnsweringBackend({"7": "running"})
    theirs = AnsweringBackend({"7": "completed"})
    backends = {None: ours, "/other/folder": theirs}

    watched = watch(store, "here", lambda folder: backends[folder], Rejected())  # type: ignore[arg-type,index]

    assert ours.asked == ["7"] and theirs.asked == ["7"]
    assert [doc["run"] for doc in watched.jobs] == [1]
    store.close()


def row(value: Any, *, doc_id: str = "job:M:r1:s0:p0", key: Any = None) -> ViewRow:
    return ViewRow(doc_id, key if key is not None else ["here", "running"], value)


def test_rows_are_taken_only_when_they_look_like_ours() -> None:
    assert held_from_row(row(["12", 1, 1, "/w"])) == Held("job:M:r1:s0:p0", "running", "12", "/w")
    assert held_from_row(row([None, 0, None, None])) == Held(
        "job:M:r1:s0:p0", "running", None, None
    )
    # The folder counts only for the current attempt, as recorded_work_dir says.
    assert held_from_row(row(["12", 2, 1, "/w"])) == Held("job:M:r1:s0:p0", "running", "12", None)
    assert held_from_row(row(["12", True, True, "/w"])) == Held(
        "job:M:r1:s0:p0", "running", "12", None
    )
    for bad in (row(["../x", 1, 1, None]), row([12, 1, 1, None]), row("12"),
                row(["12", 1, 1]), row(["12", 1, 1, None], doc_id="job:M:r1:s0:p0\nrm"),
                row(["12", 1, 1, None], key=["here", "failed"])):
        assert held_from_row(bad) is None


def test_only_a_change_of_state_needs_the_document() -> None:
    assert not needs_judging("submitted", BackendState("pending"))
    assert not needs_judging("running", BackendState("pending"))
    assert not needs_judging("running", BackendState("running"))
    assert needs_judging("submitted", BackendState("running"))
    for finished in ("completed", "failed", "cancelled", "unknown"):
        assert needs_judging("running", BackendState(finished))


def test_a_planted_work_folder_is_never_used(tmp_path: Path) -> None:
    """The work folder on an attempt comes from the store: only a folder some
    reconciler submitted from (it holds the submit lock) gets a backend of its own;
    nothing is created anywhere else."""
    from reconciler.site.cycle import SitePieces, _router
    from reconciler.site.lock import submit_lock

    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    with submit_lock(theirs):
        pass
    made: list[Path] = []

    def backend_at(folder: Path) -> Any:
        made.append(folder)
        return AnsweringBackend({})

    own = AnsweringBackend({})
    pieces = SitePieces(backend=own, prepare=lambda _j: None, card_path=lambda _j: tmp_path,  # type: ignore[arg-type,return-value]
                        verify=lambda *_a: None, expected=lambda _j: {}, backend_at=backend_at)
    route = _router(pieces, ours)
    planted = tmp_path / "etc"
    planted.mkdir()
    for folder in (None, str(ours), str(planted), "relative/path", str(tmp_path / "nowhere")):
        assert route(folder) is own
    assert route(str(theirs)) is not own
    assert made == [theirs]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["etc", "theirs"]
    assert list(planted.iterdir()) == []
