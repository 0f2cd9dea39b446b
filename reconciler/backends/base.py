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
from typing import Literal, Protocol

from reconciler.errors import BackendError
from reconciler.model import BackendConfig

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


@dataclass(frozen=True)
class BackendContext:
    """Site facts a backend needs besides its own options."""

    site: str
    work_dir: Path
    max_running: int = 100
    env: Mapping[str, str] = field(default_factory=dict)


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
_REGISTRY: dict[str, BackendFactory] = {}


def register(kind: str) -> Callable[[BackendFactory], BackendFactory]:
    """Class/function decorator adding a factory to the registry under `kind`."""

    def add(factory: BackendFactory) -> BackendFactory:
        _REGISTRY[kind] = factory
        return factory

    return add


def backend_kinds() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def create_backend(config: BackendConfig, context: BackendContext) -> Backend:
    """The backend a site file declares, configured with its options."""
    _load_builtin()
    try:
        factory = _REGISTRY[config.type]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise BackendError(f"unknown backend type '{config.type}' (known: {known})") from None
    return factory(config.options, context)


def _load_builtin() -> None:
    # Imported here, not at module top, because the implementations import this module.
    from reconciler.backends import dirac, local, slurm  # noqa: F401


def option_str(options: Mapping[str, object], key: str) -> str | None:
    """A string option, or None when absent; numbers are accepted and converted."""
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BackendError(f"backend option '{key}': expected a string, got {value!r}")
    return str(value)


def option_int(options: Mapping[str, object], key: str, default: int, minimum: int) -> int:
    value = options.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BackendError(
            f"backend option '{key}': expected an integer of at least {minimum}, got {value!r}"
        )
    return value


def option_str_list(options: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = options.get(key)
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise BackendError(f"backend option '{key}': expected a list of strings, got {value!r}")
    return tuple(value)
