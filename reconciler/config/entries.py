"""Which event mode a campaign entry's fields describe, or what is wrong with them.

The campaign schema encodes the same four shapes as a `oneOf` (so editors can
check them); a `oneOf` failure is unreadable, so the validator asks this module
for a message that names the missing or conflicting fields. A test keeps the two
in agreement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model import EventMode

SHAPES_HELP = (
    "give n_ev + ev_per_run or ev_per_run + n_runs (number mode), t_run + t_format + n_runs"
    " (time mode), run_numbers or runlist (run mode), or run_numbers or runlist with n_ev +"
    " ev_per_run (run_number mode)"
)


def _join(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _present(fields: Mapping[str, Any], *names: str) -> list[str]:
    return [name for name in names if name in fields]


def classify_entry(fields: Mapping[str, Any]) -> tuple[EventMode | None, str | None]:
    """The event mode the fields describe, or None and a message saying what to fix."""
    if "run_numbers" in fields and "runlist" in fields:
        return None, "give either run_numbers or runlist, not both"
    run_source = _present(fields, "run_numbers", "runlist")
    timed = _present(fields, "t_run", "t_format")
    if timed:
        clash = _present(fields, "n_ev", "ev_per_run", *run_source)
        if clash:
            return None, f"{_join(timed)} (time mode) cannot be combined with {_join(clash)}"
        missing = [name for name in ("t_run", "t_format", "n_runs") if name not in fields]
        if missing:
            return None, f"time mode needs t_run, t_format and n_runs: {_join(missing)} missing"
        return "time", None
    if run_source:
        counted = _present(fields, "n_ev", "ev_per_run")
        if not counted:
            return "run", None
        if len(counted) == 1:
            other = "ev_per_run" if counted[0] == "n_ev" else "n_ev"
            return None, (
                f"run_number mode needs n_ev and ev_per_run with {run_source[0]}: {other} missing"
            )
        if "n_runs" in fields:
            return None, (
                f"n_runs has no meaning with {run_source[0]}, n_ev and ev_per_run"
                " (run_number mode): remove it"
            )
        return "run_number", None
    if "ev_per_run" in fields:
        if "n_ev" in fields and "n_runs" in fields:
            return None, "give either n_ev or n_runs with ev_per_run (number mode), not both"
        if "n_ev" in fields or "n_runs" in fields:
            return "number", None
        return None, "number mode needs n_ev or n_runs with ev_per_run"
    if "n_ev" in fields or "n_runs" in fields:
        given = _present(fields, "n_ev", "n_runs")[0]
        return None, f"number mode needs ev_per_run (events per job) with {given}"
    return None, f"no event fields: {SHAPES_HELP}"


def mode_fields_hint(mode: EventMode) -> str:
    """What an entry of a module in this mode must give."""
    return {
        "number": "n_ev + ev_per_run or ev_per_run + n_runs",
        "time": "t_run + t_format + n_runs",
        "run": "run_numbers or runlist (no n_ev or ev_per_run)",
        "run_number": "run_numbers or runlist with n_ev + ev_per_run",
    }[mode]
