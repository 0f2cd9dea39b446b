"""The site lease: one active reconciler per site, across machines and work folders.

Two reconcilers for one site with different work folders (two clones, or
`--work-dir`) would each read the other's attempts from the wrong folder and fail
them; the `flock` of reconciler.site.lock covers one machine only. So a cycle
first takes `lease:site:<name>` in the store by compare-and-set, and renews it
before it submits. The holder is a (host, work folder) pair, so the next cron run
of the same reconciler simply renews it; anyone else is refused until it expires,
and then takes it over, saying so. The decision is pure (`decide`); `take` does
the compare-and-set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.documents import Doc, iso, lease_id, parse_iso
from reconciler.errors import Conflict, McprodError
from reconciler.store.interface import Store

DEFAULT_LEASE_S = 900.0
TRIES = 5


class LeaseHeld(McprodError):
    """Another reconciler holds the site's lease and it has not expired."""


@dataclass(frozen=True)
class Holder:
    host: str
    work_dir: str
    pid: int

    def same_reconciler(self, other: Mapping[str, Any]) -> bool:
        return other.get("host") == self.host and other.get("work_dir") == self.work_dir


@dataclass(frozen=True)
class Decision:
    doc: Doc | None  # the lease document to write; None: refused
    note: str | None = None  # said once, e.g. when an expired lease is taken over
    refusal: str | None = None


def describe(holder: Mapping[str, Any]) -> str:
    return (
        f"host {holder.get('host')}, work folder {holder.get('work_dir')},"
        f" pid {holder.get('pid')}"
    )


def decide(
    site: str, existing: Doc | None, me: Holder, now: dt.datetime, duration_s: float
) -> Decision:
    """What to write to hold the lease for `duration_s` from `now`, or why not."""
    expires = iso(now + dt.timedelta(seconds=duration_s))
    fields = {"type": "lease", "site": site, "renewed_at": iso(now), "expires_at": expires}
    mine = {"host": me.host, "work_dir": me.work_dir, "pid": me.pid}
    if existing is None:
        return Decision({"_id": lease_id(site), **fields,
                         "holder": {**mine, "started_at": iso(now)}})
    holder = existing.get("holder")
    holder = holder if isinstance(holder, dict) else {}
    if me.same_reconciler(holder):
        started = holder.get("started_at") or iso(now)
        return Decision({**existing, **fields, "holder": {**mine, "started_at": started}})
    until = existing.get("expires_at")
    try:
        expired = not isinstance(until, str) or parse_iso(until) <= now
    except ValueError:
        expired = True  # an unreadable expiry protects nothing
    if not expired:
        return Decision(None, refusal=(
            f"site {site} is held by another reconciler ({describe(holder)},"
            f" since {holder.get('started_at')}); its lease expires at {until}:"
            " stop that one, or run again after that"
        ))
    return Decision(
        {**existing, **fields, "holder": {**mine, "started_at": iso(now)},
         "taken_over_from": dict(holder)},
        note=f"took over the lease of site {site} from {describe(holder)}, expired at {until}",
    )


def take(store: Store, site: str, me: Holder, now: dt.datetime, duration_s: float) -> str | None:
    """Take or renew the lease; returns a note to report, raises LeaseHeld when refused.
    A lost compare-and-set means someone else wrote it meanwhile: decide again."""
    for _ in range(TRIES):
        existing = store.get(lease_id(site))
        decision = decide(site, existing, me, now, duration_s)
        if decision.doc is None:
            raise LeaseHeld(str(decision.refusal))
        if existing is None:
            if store.create(decision.doc).created:
                return decision.note
            continue
        try:
            store.update(decision.doc)
            return decision.note
        except Conflict:
            continue
    raise LeaseHeld(f"site {site}: the lease changed {TRIES} times while taking it; try again")
