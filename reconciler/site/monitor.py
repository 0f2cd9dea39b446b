"""Monitor this site's submitted and running jobs.

A job becomes `completed` only after exactly the outputs the job was to produce
(their URLs derived from the job document, never taken from the card) are listed
in its return card and exist on the storage with the recorded size and adler32
(DESIGN.md invariant 6); a card naming any other file fails the job. Its `data:`
documents are written just before the job document, so a completed job always
has them (a crash in between leaves the job running, and the next pass writes the
same data ids again). Anything
else is `failed` with the reason, for the retry step to judge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reconciler.backends.base import Backend, BackendOf, BackendState, by_backend
from reconciler.documents import Doc, data_id
from reconciler.errors import BackendError, McprodError
from reconciler.job.returncard import CardFile, ReturnCard, ReturnCardError, read_return_card
from reconciler.site.decisions import mark_completed, mark_failed, mark_running
from reconciler.store.cas import bulk_cas, cas_apply
from reconciler.store.interface import Store

# (url, size, adler32) -> None when the file is there as recorded, else what is wrong.
VerifyFile = Callable[[str, int, str], str | None]
ReturnCardPath = Callable[[Doc], Path]
# The outputs a job is to produce: URL -> data type, derived from the job alone.
ExpectedOutputs = Callable[[Doc], Mapping[str, str]]
# The last lines of the attempt's stderr, or None: batch-system messages such as
# Slurm's "... DUE TO TIME LIMIT ***" are there, and `retry.on` matches them.
LogTail = Callable[[Doc], str | None]
# Brings finished jobs' returned files (card, logs) into their attempt folders, for
# backends whose jobs run where the reconciler cannot see; returns what went wrong
# per job id, raises BackendError when the backend cannot be asked.
FetchReturned = Callable[[Sequence[Doc]], Mapping[str, str]]

STORAGE_UNREACHABLE = "cannot check"


@dataclass(frozen=True)
class Verdict:
    """What one finished attempt amounts to."""

    ok: bool
    reason: str | None = None
    produced_output: bool = True
    data_docs: tuple[Doc, ...] = ()
    # The storage could not be asked (gfal unreachable): no verdict on the job yet.
    undecided: bool = False


@dataclass
class MonitorResult:
    running: int = 0
    completed: int = 0
    failed: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # "<job id>: <reason>"


def foreign_files(files: Sequence[CardFile], expected: Mapping[str, str]) -> list[str]:
    """Card entries that are not outputs of this job (pure: the check that stops a
    card from getting a job completed against an unrelated file)."""
    return [
        f"the return card lists {file.url}, which this job was not to produce"
        for file in files
        if file.url not in expected
    ]


def judge_outputs(
    job: Mapping[str, Any],
    files: Sequence[CardFile],
    verify: VerifyFile,
    expected: Mapping[str, str],
) -> Verdict:
    """Exactly the expected outputs, each listed in the card and on the storage as listed."""
    foreign = foreign_files(files, expected)
    if foreign:
        return Verdict(False, "output check failed: " + "; ".join(foreign), False)
    problems: list[str] = []
    present = 0
    by_type: dict[str, list[Doc]] = {}
    listed: set[str] = set()
    for file in files:
        listed.add(file.url)
        url, size, adler = file.url, file.size, file.adler32
        problem = verify(url, size, adler)
        if problem is not None and problem.startswith(STORAGE_UNREACHABLE):
            return Verdict(False, f"{file.name}: {problem}", undecided=True)
        if problem is None:
            present += 1
        elif not problem.startswith("missing"):
            present += 1  # something is on the storage, only not what was recorded
        if problem is not None:
            problems.append(f"{file.name}: {problem}")
            continue
        entry = {"name": file.name, "url": url, "size": size, "adler32": adler}
        # Catalogue identity, so that files can be found by label as legacy documents allowed.
        entry.update({k: v for k, v in (("guid", file.guid), ("lfn", file.lfn)) if v})
        by_type.setdefault(expected[url], []).append(entry)
    for url, output in expected.items():
        if url not in listed:
            problems.append(f"declared output {output} is not in the return card")
    if problems:
        return Verdict(False, "output check failed: " + "; ".join(problems), present > 0)
    docs = tuple(
        data_document(job, data_type, entries) for data_type, entries in sorted(by_type.items())
    )
    return Verdict(True, data_docs=docs)


def data_document(job: Mapping[str, Any], data_type: str, files: list[Doc]) -> Doc:
    module, run, pass_ = str(job["module"]), int(job["run"]), int(job["pass"])
    subrun = int(job.get("subrun") or 0)
    return {
        "_id": data_id(data_type, module, run, subrun, pass_),
        "type": "data",
        "data_type": data_type,
        "module": module,
        "run": run,
        "subrun": subrun,
        "pass": pass_,
        "campaign": job.get("campaign"),
        "labels": list(job.get("labels") or [job.get("campaign")]),
        # What an analyst selects by without reading the job (legacy data documents):
        # the physics and conditions, the template values (legacy `extras`), what was asked.
        "rat_version": job.get("rat_version"),
        "ratdb_tag": job.get("ratdb_tag"),
        "extras": dict(job.get("template") or {}),
        "event_mode": job.get("event_mode"),
        "events": job.get("events"),
        "duration_s": job.get("duration_s"),
        "job_id": job["_id"],
        "attempt": job.get("attempt"),
        "files": files,
    }



def finished_verdict(
    job: Mapping[str, Any],
    state: BackendState,
    card: Path,
    verify: VerifyFile,
    expected: Mapping[str, str],
    log_tail: str | None = None,
) -> Verdict:
    """The verdict on a job the backend reports finished."""
    try:
        returned: ReturnCard | None = read_return_card(card)
        card_problem = None
    except ReturnCardError as error:
        returned, card_problem = None, str(error)
    files = list(returned.files) if returned is not None else None
    if state.state != "completed":
        code = f" (exit code {state.exit_code})" if state.exit_code is not None else ""
        parts = [f"{state.state} in the batch system{code}"]
        if state.reason and state.reason != f"exit code {state.exit_code}":
            parts.append(state.reason)
        stage_out = returned.error if returned is not None else None
        if stage_out:
            parts.append(f"stage-out: {stage_out}")
        if log_tail:
            parts.append(f"stderr: {log_tail}")
        return Verdict(False, "; ".join(parts), produced_output=bool(files))
    if files is None:
        return Verdict(False, str(card_problem), produced_output=False)
    if not files and not expected:
        return Verdict(True)
    if not files:
        return Verdict(False, f"return card {card} lists no files", produced_output=False)
    return judge_outputs(job, files, verify, expected)


def _still_ours(job: Doc) -> Callable[[Doc], bool]:
    def check(fresh: Doc) -> bool:
        return (
            fresh.get("site") == job.get("site")
            and fresh.get("backend_name") == job.get("backend_name")
            and fresh.get("status") in ("submitted", "running")
        )

    return check


def _write_data_docs(store: Store, docs: Sequence[Doc]) -> None:
    """Create or overwrite the data documents (same ids every time: idempotent)."""
    existing = store.get_many([str(doc["_id"]) for doc in docs])
    merged = [
        {**doc, "_rev": old["_rev"]} if old is not None else doc
        for doc, old in zip(docs, existing, strict=True)
    ]
    creates = [doc for doc in merged if "_rev" not in doc]
    updates = [doc for doc in merged if "_rev" in doc]
    if creates:
        store.bulk_create(creates)
    if updates:
        store.bulk_update(updates)


def monitor_jobs(
    store: Store,
    backend: Backend,
    jobs: Sequence[Doc],
    *,
    card_path: ReturnCardPath,
    verify: VerifyFile,
    expected: ExpectedOutputs,
    now: dt.datetime,
    dry_run: bool = False,
    log_tail: LogTail | None = None,
    fetch: FetchReturned | None = None,
    backend_of: BackendOf | None = None,
    known: Mapping[str, BackendState] | None = None,
) -> MonitorResult:
    """One monitoring pass over this site's active jobs (already read from the store).
    `known`: what the backends already said this cycle, by job id (reconciler.site.watch);
    only the other jobs' backends are asked.

    Writes go in bulk; a job whose write loses a compare-and-set is re-read and
    decided again only if it is still this attempt's."""
    result = MonitorResult()
    holder = backend_of or (lambda _job: backend)
    asked = [job for job in jobs if job.get("backend_id")]
    # By job id: two local backends (two work folders) may both have a job "7".
    states: dict[str, BackendState] = {
        str(job["_id"]): known[str(job["_id"])]
        for job in asked if known is not None and str(job["_id"]) in known
    }
    unasked = [job for job in asked if str(job["_id"]) not in states]
    for held_by, group in by_backend(unasked, holder):
        try:
            answer = held_by.states([str(job["backend_id"]) for job in group])
        except BackendError as exc:
            result.errors.append(f"monitor: cannot ask the backend, jobs left alone: {exc}")
            continue
        for job in group:
            states[str(job["_id"])] = answer.get(str(job["backend_id"]), BackendState("unknown"))
    with_ids = [job for job in asked if str(job["_id"]) in states]
    if not with_ids:
        return result
    updates: list[Doc] = []
    data_docs: list[Doc] = []
    decided: dict[str, Callable[[Doc], Doc]] = {}
    returned, unfetched = _fetch_finished(with_ids, states, fetch, dry_run, result)
    lingering: list[Doc] = []
    for job in with_ids:
        state = states[str(job["_id"])]
        if str(job["_id"]) in unfetched:
            result.unchanged += 1
            continue
        if state.state in ("pending", "running"):
            if state.state == "running" and job.get("status") == "submitted":
                updates.append(mark_running(job, now))
            else:
                result.unchanged += 1
            continue
        if state.state == "unknown":
            verdict = Verdict(
                False,
                f"the backend no longer knows {job.get('backend_name')} "
                f"(id {job.get('backend_id')})",
                produced_output=False,
            )
        else:
            failed = state.state != "completed"
            tail = log_tail(job) if log_tail is not None and failed else None
            try:
                outputs = expected(job)
            except McprodError as exc:
                verdict = Verdict(False, f"cannot name the job's outputs: {exc}", False)
            else:
                verdict = finished_verdict(job, state, card_path(job), verify, outputs, tail)
            problem = returned.get(str(job["_id"]))
            if problem and not verdict.ok and not verdict.undecided:
                verdict = replace(verdict, reason=f"{verdict.reason}; returned files: {problem}")
            if verdict.undecided:
                # A storage outage must not fail good jobs: ask again next cycle.
                result.errors.append(f"monitor: {job['_id']} left for the next cycle: "
                                     f"{verdict.reason}")
                result.unchanged += 1
                continue
        data_docs.extend(verdict.data_docs)
        if state.lingering:
            lingering.append(job)
        updates.append(apply_verdict(job, state, verdict, now))
        decided[str(job["_id"])] = _redo(state, verdict, now)
    if dry_run:
        _count(updates, result)
        return result
    if data_docs:
        _write_data_docs(store, data_docs)
    written, lost = bulk_cas(store, updates)
    originals = {str(job["_id"]): job for job in with_ids}
    for job_id in lost:
        original = originals[job_id]
        ours = _still_ours(original)
        redo = decided.get(job_id, lambda fresh: mark_running(fresh, now))

        def decide(fresh: Doc, ours: Callable[[Doc], bool] = ours,
                   redo: Callable[[Doc], Doc] = redo) -> Doc | None:
            return redo(fresh) if ours(fresh) else None

        again = cas_apply(store, original, decide)
        if again is not None:
            written.append(again)
    _count(written, result)
    _stop_lingering(holder, lingering, result)
    return result


def _fetch_finished(
    jobs: Sequence[Doc],
    states: Mapping[str, BackendState],
    fetch: FetchReturned | None,
    dry_run: bool,
    result: MonitorResult,
) -> tuple[Mapping[str, str], set[str]]:
    """Fetch what finished jobs returned; (problems by job id, job ids left for later)."""
    finished = [job for job in jobs
                if states.get(str(job["_id"]), BackendState("unknown")).finished]
    if fetch is None or not finished or dry_run:
        return {}, set()
    try:
        return fetch(finished), set()
    except BackendError as exc:
        result.errors.append(
            f"monitor: cannot fetch what {len(finished)} finished jobs returned, "
            f"left for the next cycle: {exc}"
        )
        return {}, {str(job["_id"]) for job in finished}


def _stop_lingering(holder: BackendOf, jobs: Sequence[Doc], result: MonitorResult) -> None:
    """Jobs judged failed that the batch system may still run (stalled, held) are
    stopped, so that their retry never runs beside them."""
    for job in jobs:
        backend_id = str(job["backend_id"])
        try:
            holder(job).cancel(backend_id)
        except BackendError as exc:
            result.errors.append(f"monitor: could not stop lingering job {backend_id}: {exc}")


def _redo(state: BackendState, verdict: Verdict, now: dt.datetime) -> Callable[[Doc], Doc]:
    return lambda fresh: apply_verdict(fresh, state, verdict, now)


def apply_verdict(job: Doc, state: BackendState, verdict: Verdict, now: dt.datetime) -> Doc:
    if verdict.ok:
        return mark_completed(job, now, exit_code=state.exit_code)
    return mark_failed(
        job, str(verdict.reason), now, exit_code=state.exit_code,
        produced_output=verdict.produced_output,
    )


def _count(docs: Sequence[Doc], result: MonitorResult) -> None:
    for doc in docs:
        status = doc.get("status")
        if status == "running":
            result.running += 1
        elif status == "completed":
            result.completed += 1
        elif status == "failed":
            result.failed += 1
            result.failures.append(f"{doc['_id']}: {doc.get('reason')}")
