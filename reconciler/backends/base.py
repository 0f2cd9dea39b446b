"""The backend contract: how the reconciler talks to a batch system.

A backend runs job scripts and reports their states; it knows nothing about the
store. The site cycle reserves a job in the store first, then calls `submit` with
the attempt's name (`<job id>.a<attempt>`), then records the backend id. After a
crash between the two, `find_by_names` tells it whether the submission happened,
which is why every backend must be able to look a job up by its name.

`states` answers only for the ids it was given; an id the backend does not know
(any more) maps to `unknown`. A backend that cannot be asked at all raises
`BackendError`: the caller must then leave its jobs alone rather than treat them
as lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from reconciler.errors import BackendError

State = Literal["pending", "running", "completed", "failed", "cancelled", "timeout", "unknown"]
STATES: tuple[State, ...] = (
    "pending",
    "running",
    "completed",
    "failed",
    "cancelled",
    "timeout",
    "unknown",
)
FINISHED_STATES: frozenset[State] = frozenset({"completed", "failed", "cancelled", "timeout"})


@dataclass(frozen=True)
class BackendState:
    """What the batch system says about one job."""

    state: State
    exit_code: int | None = None
    reason: str | None = None
    # The batch system may still run it (DIRAC `Stalled`, HTCondor `Held`): stop it
    # once it is judged failed, so that a retry never runs beside it.
    lingering: bool = False

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES


UNKNOWN = BackendState("unknown", reason="the backend does not know this job")


@dataclass(frozen=True)
class SubmitSpec:
    """One attempt to run: the script the job-script renderer wrote, and where its logs go."""

    name: str
    script: Path
    work_dir: Path
    stdout: Path
    stderr: Path


@dataclass(frozen=True)
class SubmitResult:
    """Outcome of one submission in a batch: a backend id, or the error that stopped it."""

    name: str
    backend_id: str | None = None
    error: BackendError | None = None

    def backend_id_or_raise(self) -> str:
        """The id, or the error: `submit` of a backend that submits in batches."""
        if self.backend_id is None:
            raise self.error or BackendError(f"{self.name}: not submitted")
        return self.backend_id


@dataclass(frozen=True)
class BackendContext:
    """Site facts a backend needs besides its own options."""

    site: str
    work_dir: Path
    max_running: int = 100
    env: Mapping[str, str] = field(default_factory=dict)  # for the backend's own commands
    # The site file's `env:`: given to every job, on top of the allow-list of
    # reconciler.backends.environment (jobs never inherit the reconciler's environment).
    job_env: Mapping[str, str] = field(default_factory=dict)


class Backend(Protocol):
    """A named batch system. Implementations live in this package and register below."""

    kind: str

    def submit(self, spec: SubmitSpec) -> str:
        """Submits one script; returns the backend id. Raises BackendError."""
        ...

    def submit_many(self, specs: Sequence[SubmitSpec]) -> list[SubmitResult]:
        """Submits many scripts as fast as the backend allows; one result per spec, in order."""
        ...

    def states(self, backend_ids: Sequence[str]) -> dict[str, BackendState]:
        """The state of each id (unknown ids -> `unknown`). Raises BackendError."""
        ...

    def find_by_names(self, names: Sequence[str]) -> dict[str, str]:
        """Backend ids of the jobs with these names (names not found are absent)."""
        ...

    def find_by_name(self, name: str) -> str | None:
        """Backend id of the job with this name, or None."""
        ...

    def cancel(self, backend_id: str) -> None:
        """Stops the job; cancelling a finished or unknown job is not an error."""
        ...


BackendFactory = Callable[[Mapping[str, object], BackendContext], Backend]


@runtime_checkable
class FetchesOutputs(Protocol):
    """A backend whose jobs run where the reconciler cannot see (grid worker nodes):
    their return card and logs must be brought back into the attempt's folder."""

    def fetch_outputs(self, wanted: Sequence[tuple[str, Path]]) -> dict[str, str]:
        """Brings each finished job's returned files (backend id -> attempt folder) home.

        Returns what went wrong per backend id (absent: fetched, or nothing to
        fetch); raises BackendError when the backend cannot be asked at all."""
        ...


@runtime_checkable
class GatesSubmission(Protocol):
    """A backend that can tell, before a cycle submits, that submitting would fail
    (an expiring grid proxy): the cycle then submits nothing and says why."""

    def submission_blocker(self) -> str | None:
        """None when submitting may go ahead, else one line saying what to fix."""
        ...


# The backend that holds a job's current attempt (a site's attempts may have been
# submitted from another work folder, by the reconciler that held the lease then).
BackendOf = Callable[[Any], Backend]


def by_backend(jobs: Sequence[Any], backend_of: BackendOf) -> list[tuple[Backend, list[Any]]]:
    """Jobs grouped by the backend that holds them, in first-seen order."""
    groups: dict[int, tuple[Backend, list[Any]]] = {}
    for job in jobs:
        backend = backend_of(job)
        groups.setdefault(id(backend), (backend, []))[1].append(job)
    return list(groups.values())
