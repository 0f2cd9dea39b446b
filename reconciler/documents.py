"""Identities and shapes of the documents the reconciler writes (DESIGN.md, observed state).

Job document fields (every writer and reader uses these names):

    _id            job:<module>:r<run>:s<sub>:p<pass>   (JOB_ID below)
    type           "job"
    module, run, subrun, pass
                   sub-runs split one run's events inside one pass (run_number mode
                   with n_ev > ev_per_run: sub-runs 0..k-1); every other mode has
                   sub-run 0. A pass is allocated per (module, run) and shared by
                   the sub-runs of one campaign entry.
    campaign       campaign label (owner)
    entry_key      hash of the entry's physics (see reconciler.enqueue.expand)
    index          position of the job within its entry (0-based); in run-list modes
                   (run, run_number) its position among that run's jobs in the entry,
                   so a job's slot in its campaign is (entry_key, run, index)
    commit         commit that declared it
    labels         [campaign label]
    rat_version, ratdb_tag
    event_mode     number | time | run | run_number
    events         events per job (-N), or None
    duration_s     seconds per job (-T), or None
    macro_path     macro path inside the RAT release
    outputs        ["ratds", "ntuple", ...]; other_suffix
    template       {name: value}
    priority       int, larger first
    paused         not written any more: the campaign's declared `state` is the only
                   truth for paused (pausing writes no job document). Documents of
                   earlier releases may carry it; every reader ignores it.
    status         waiting reserved submitted running completed failed cancelled deleted
    created_at, updated_at   ISO-8601 UTC
    site           site holding the current attempt, or None
    attempt        number of the current attempt (0 before the first reservation)
    backend_name   <job id>.a<attempt>
    backend_id     id given by the batch system
    not_before     ISO time before which a retried job is not submitted, or None
    reason         last failure reason, or None (a cancel records why)
    cancelled_at    ISO time the reconciler cancelled it (campaign cancelled or --prune)
    attempts       [{n, site, backend_name, backend_id, reserved_at, submitted_at,
                     finished_at, status, exit_code, reason, host, work_dir}]
                   host, work_dir: the machine and the site work folder that submitted
                   the attempt; its script, logs and return card are read from there

Site lease document (`lease:site:<name>`, reconciler.site.lease): one active
reconciler per site, across machines and work folders.

    _id            lease:site:<name>
    type           "lease"
    site           the site's name
    holder         {host, work_dir, pid, started_at}: who holds it, since when
    renewed_at     ISO time of the last renewal (each cycle, and before submitting)
    expires_at     ISO time after which another reconciler may take it over
    taken_over_from  the previous holder when the lease was taken after it expired
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass
from typing import Any

_DIGITS = re.compile(r"([0-9]+)")

Doc = dict[str, Any]
"""A document as stored: JSON values by field name."""

JOB_STATUSES = (
    "waiting",
    "reserved",
    "submitted",
    "running",
    "completed",
    "failed",
    "cancelled",
    "deleted",
)
ACTIVE_STATUSES = ("reserved", "submitted", "running")
FINAL_STATUSES = ("completed", "cancelled", "deleted")
STATUS_SPELLINGS = {"canceled": "cancelled"}
"""Other spellings people type for a status; accepted on the command line with a hint."""


def copy_for_change(job: Any) -> Doc:
    """A copy of a job document that a transition may change without touching `job`.

    Transitions set top-level fields, append to `attempts` and `operator_actions` and
    update the last attempt's fields; only those containers are copied (a deep copy of
    the whole document cost more than writing it). Anything else is shared, so a
    transition must never change a nested value in place."""
    doc: Doc = dict(job)
    attempts = doc.get("attempts")
    if isinstance(attempts, list):
        doc["attempts"] = [dict(a) if isinstance(a, dict) else a for a in attempts]
    actions = doc.get("operator_actions")
    if isinstance(actions, list):
        doc["operator_actions"] = list(actions)
    return doc


def canonical_status(value: str) -> str:
    """The one spelling mcprod uses for a status typed by a person (`canceled` -> `cancelled`)."""
    return STATUS_SPELLINGS.get(value, value)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key ordering digit runs by value: `job:X:r1000:s0:p1` before `job:X:r10000:s0:p1`.

    Each piece is tagged (0 for text, 1 for a number) so text and numbers never meet
    in a comparison.
    """
    return tuple(
        (1, int(piece)) if piece.isdigit() else (0, piece)
        for piece in _DIGITS.split(text)
        if piece
    )


MODULE_NAME = r"[A-Za-z0-9_.+-]+"
"""The characters of a module name (catalogue names are capitalised path parts)."""

JOB_ID = re.compile(
    rf"job:(?P<module>{MODULE_NAME}):r(?P<run>[0-9]+):s(?P<subrun>[0-9]+):p(?P<pass_>[0-9]+)"
)
"""The one shape of a job document id; anything else under `job:` is not ours."""

DATA_ID = re.compile(
    rf"data:(?P<data_type>[a-z_]+):(?P<module>{MODULE_NAME})"
    r":r(?P<run>[0-9]+):s(?P<subrun>[0-9]+):p(?P<pass_>[0-9]+)"
)

OLD_JOB_ID = re.compile(rf"job:{MODULE_NAME}:r[0-9]+:p[0-9]+")
"""Job ids before sub-runs (`job:<module>:r<run>:p<pass>`): `db init` refuses them."""
# The shapes a document read back from the store must have (DESIGN.md invariant 11);
# the same patterns as the declaration's schemas. One place, used by every checker.
# A module name as in MODULE_NAME, but never starting with a dot (no `.` or `..`).
MODULE_PATTERN = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,199}")
LABEL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.+-]{0,63}")
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_.:+-]{1,200}")
PLACEHOLDER_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# Starts with a letter or digit, so that it can never be read as a command option.
BACKEND_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
JOB_ID_PATTERN = JOB_ID  # job:<module>:r<run>:s<sub>:p<pass>


def short_commit(commit: str) -> str:
    """A commit as people read it: 12 hex digits, keeping a `+dirty` mark."""
    head, plus, mark = commit.partition("+")
    return head[:12] + plus + mark


@dataclass(frozen=True, slots=True)
class JobKey:
    """What a job id says: the physics identity of one job."""

    module: str
    run: int
    subrun: int
    pass_: int

    @property
    def id(self) -> str:
        return job_id(self.module, self.run, self.subrun, self.pass_)


def job_id(module: str, run: int, subrun: int, pass_: int) -> str:
    return f"job:{module}:r{run}:s{subrun}:p{pass_}"


def parse_job_id(text: str) -> JobKey | None:
    """The identity in a job id, or None when the text is not one (untrusted input)."""
    match = JOB_ID.fullmatch(text)
    if match is None:
        return None
    return JobKey(
        match["module"], int(match["run"]), int(match["subrun"]), int(match["pass_"])
    )


def data_id(data_type: str, module: str, run: int, subrun: int, pass_: int) -> str:
    return f"data:{data_type}:{module}:r{run}:s{subrun}:p{pass_}"


def output_stem(module: str, run: int, subrun: int, pass_: int) -> str:
    """The legacy file name stem: `<Module>_r<run>_s<subrun>_p<pass>`."""
    return f"{module}_r{run}_s{subrun}_p{pass_}"


def campaign_status_id(label: str) -> str:
    return f"campaign:{label}"


def site_id(name: str) -> str:
    return f"site:{name}"


def lease_id(site: str) -> str:
    return f"lease:site:{site}"


def catalogue_id(rat_version: str) -> str:
    return f"production_information:{rat_version}"


def backend_name(doc_id: str, attempt: int) -> str:
    return f"{doc_id}.a{attempt}"


@functools.lru_cache(maxsize=64)
def iso(moment: _dt.datetime) -> str:
    """The one timestamp form in documents: UTC, microseconds, `Z`. Remembered: a bulk
    change stamps 100,000 documents with one moment (datetimes are immutable)."""
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def now_iso() -> str:
    return iso(_dt.datetime.now(_dt.UTC))
