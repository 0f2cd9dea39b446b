"""The RAT command line of a job, built from one table.

    rat -l <log> [-b <ratdb url>] <event-mode options> [<tag args>] <macro>

| part              | when                           | from                                     |
|-------------------|--------------------------------|------------------------------------------|
| `-l rat.log`      | always                         | the legacy runner (ratProdRunner.py)     |
| `-b <url>`        | the site declares `ratdb:`     | the legacy runner (see below)            |
| `-N <events>`     | number mode                    | RAT: events to simulate                  |
| `-T <seconds>`    | time mode                      | RAT: simulated time                      |
| `-r <run>`        | run mode                       | RAT: real run conditions of `<run>`      |
| `-n <run> -N <n>` | run_number mode                | RAT: run number `<run>`, `<n>` events    |
| tag arguments     | the campaign has a `ratdb_tag` | the RAT version's `ratdb: {tag_args}`    |
| `<macro>`         | always                         | the rendered macro, job.mac              |

The `-b` URL is `<protocol>://<user>:<password>@<host>[:<port>]/<database>` as the
legacy runner built it; the job script assembles it at run time from the password on
the worker (reconciler.job.script). Tag arguments are the RAT version's file's
`ratdb: {tag_args: [...]}` with `{tag}` replaced by the campaign's tag; a version that
declares none makes `validate` refuse a campaign with a `ratdb_tag`.

No option is invented here: how a frozen RATDB tag reaches RAT is not public, so each
RAT release's file says it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model import EVENT_MODES, TAG_PLACEHOLDER

LOG_OPTIONS = ("-l", "rat.log")
RATDB_OPTION = "-b"
MACRO = "job.mac"
EVENT_MODE_OPTIONS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "number": (("-N", "events"),),
    "time": (("-T", "duration_s"),),
    "run": (("-r", "run"),),
    "run_number": (("-n", "run"), ("-N", "events")),
}
"""Event mode -> (option, job document field) pairs, in command-line order."""
assert set(EVENT_MODE_OPTIONS) == set(EVENT_MODES)


class RatCommandError(ValueError):
    """The job document cannot make a RAT command line (the caller names the job)."""


def event_mode_arguments(job: Mapping[str, Any]) -> list[str]:
    mode = job.get("event_mode")
    options = EVENT_MODE_OPTIONS.get(mode) if isinstance(mode, str) else None
    if options is None:
        raise RatCommandError(f"unknown event_mode {mode!r}")
    args: list[str] = []
    for option, field in options:
        args += [option, _positive(job, field)]
    return args


def tag_arguments(tag: str | None, tag_args: Sequence[str] | None, rat_version: str) -> list[str]:
    if not tag:
        return []
    if tag_args is None:
        raise RatCommandError(
            f"RAT {rat_version} declares no ratdb tag_args, so ratdb_tag {tag} cannot reach RAT"
        )
    return [arg.replace(TAG_PLACEHOLDER, tag) for arg in tag_args]


def _positive(job: Mapping[str, Any], field: str) -> str:
    value = job.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise RatCommandError(f"{field} must be a positive number, got {value!r}")
    return str(int(value)) if float(value).is_integer() else str(value)
