"""The declared model: immutable, typed records built from the repository's YAML.

Records remember where they came from (`SourceRef`) so that any later error, in
expansion, planning or at a site, can point at the YAML line that caused it.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

EventMode = Literal["number", "time", "run", "run_number"]
EVENT_MODES: tuple[EventMode, ...] = ("number", "time", "run", "run_number")
CampaignState = Literal["active", "paused", "cancelled"]
TimeFormat = Literal["day", "second"]
TemplateValue = int | float | str
OutputKind = Literal["ratds", "ntuple", "other_ratds", "other_ntuple"]

SECONDS_PER = {"day": 86400, "second": 1}


@dataclass(frozen=True)
class SourceRef:
    """A position in a repository file: path relative to the repo root, 1-based."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Retry:
    max_attempts: int = 3
    on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One `modules:` item of a campaign. Run lists are already resolved to numbers."""

    module: str
    index: int
    source: SourceRef
    n_ev: int | None = None
    ev_per_run: int | None = None
    t_run: int | float | None = None
    t_format: TimeFormat | None = None
    n_runs: int | None = None
    run_numbers: tuple[int, ...] | None = None
    runlist: str | None = None
    template: Mapping[str, TemplateValue] = field(default_factory=dict)
    priority: int | None = None


# Jobs one entry, and one campaign, may declare unless the campaign raises `max_jobs`:
# a typo such as `ev_per_run: 1` must be an error at validate, not millions of jobs.
DEFAULT_MAX_JOBS = 1_000_000


@dataclass(frozen=True)
class Campaign:
    label: str
    rat_version: str
    source: SourceRef
    modules: tuple[Entry, ...]
    ratdb_tag: str | None = None
    priority: int = 100
    state: CampaignState = "active"
    sites: tuple[str, ...] | None = None
    retry: Retry = Retry()
    description: str | None = None
    labels: tuple[str, ...] = ()
    """Extra labels stamped on the campaign's job and data documents besides `label`."""
    max_jobs: int = DEFAULT_MAX_JOBS


@dataclass(frozen=True)
class Phase:
    name: str
    dir: str
    prefix: str


@dataclass(frozen=True)
class Override:
    event_mode: EventMode | None = None
    outputs: tuple[OutputKind, ...] | None = None
    other_suffix: str | None = None


@dataclass(frozen=True)
class Benchmark:
    cpu_s_per_event: float
    bytes_per_event: float


TAG_PLACEHOLDER = "{tag}"


@dataclass(frozen=True)
class RatVersion:
    version: str
    env: str
    source: SourceRef
    phases: tuple[Phase, ...] = ()
    internal_rate: tuple[str, ...] = ()
    overrides: Mapping[str, Override] = field(default_factory=dict)
    benchmarks: Mapping[str, Benchmark] = field(default_factory=dict)
    positions: Mapping[tuple[str, str], SourceRef] = field(default_factory=dict)
    """Where `(section, name)` keys (phases, overrides, benchmarks, internal_rate) are written."""
    ratdb_tag_args: tuple[str, ...] | None = None
    """How this RAT takes a RATDB tag (`ratdb: {tag_args: [...]}`, `{tag}` inside); None:
    the release declares no way, so campaigns with a ratdb_tag are refused."""

    def tag_arguments(self, tag: str) -> tuple[str, ...]:
        if self.ratdb_tag_args is None:
            raise ValueError(f"RAT {self.version} declares no ratdb tag_args")
        return tuple(arg.replace(TAG_PLACEHOLDER, tag) for arg in self.ratdb_tag_args)

    def locate(self, section: str, name: str) -> SourceRef:
        """The YAML position of `section.name`, else the file itself."""
        return self.positions.get((section, name), self.source)

    def benchmark_for(self, module: str) -> tuple[Benchmark | None, bool]:
        """The module's benchmark, and whether the `default` one was used."""
        if module in self.benchmarks:
            return self.benchmarks[module], False
        return self.benchmarks.get("default"), True


@dataclass(frozen=True)
class BackendConfig:
    type: Literal["local", "slurm", "dirac", "condor"]
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Storage:
    base_url: str
    se: str | None = None
    catalogue: str | None = None  # "dfc": outputs registered (LFN, GUID) in the DIRAC File Catalog
    lfn_base: str | None = None  # the LFN folder base_url stands for
    dirac_se: str | None = None  # the DIRAC SE name replicas are registered at


@dataclass(frozen=True)
class RatdbAccess:
    """A site's RATDB server. Where the password lives on the worker (a file, or a
    variable the site's setup exports) is declared; the password itself never is."""

    protocol: str
    host: str
    database: str
    user: str
    port: int | None = None
    password_file: str | None = None
    password_env: str | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    def url(self, password: str) -> str:
        """The `rat -b` URL, as the legacy runner built it."""
        return f"{self.protocol}://{self.user}:{password}@{self.address}/{self.database}"

    @property
    def masked_url(self) -> str:
        return self.url("***")


@dataclass(frozen=True)
class Site:
    name: str
    source: SourceRef
    backend: BackendConfig
    storage: Storage
    enabled: bool = True
    max_running: int = 100
    rat_locations: Mapping[str, str] = field(default_factory=dict)
    accepts: tuple[str, ...] | None = None
    setup: tuple[str, ...] = ()  # shell lines a job runs before RAT's env script
    # "embedded": the SQLite store on purpose, for a site whose backend is not local.
    store: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # given to every job
    # A file on the worker with the RATDB URL and password (read by the job at run time).
    ratdb_url_file: str | None = None
    ratdb: RatdbAccess | None = None

    def accepts_campaign(self, label: str) -> bool:
        """The site's `accepts` list (labels or globs); no list means every campaign."""
        if self.accepts is None:
            return True
        return any(fnmatchcase(label, pattern) for pattern in self.accepts)


@dataclass(frozen=True)
class DeclaredRepo:
    """Everything the repository declares, valid as a whole."""

    root: Path
    campaigns: Mapping[str, Campaign]
    rat_versions: Mapping[str, RatVersion]
    sites: Mapping[str, Site]
    commit: str | None = None


@dataclass(frozen=True)
class ModuleInfo:
    """One entry of a RAT version's module dictionary (production_information)."""

    event_mode: EventMode
    path: str
    outputs: tuple[OutputKind, ...]
    template: tuple[str, ...]
    other_suffix: str | None = None


@dataclass(frozen=True)
class Catalogue:
    rat_version: str
    modules: Mapping[str, ModuleInfo]
    content_hash: str
