"""Per site: heartbeat, lease, what it holds now, what finished in the last 24 hours.

Read from the `site:<name>` document (heartbeat, last cycle, proxy lifetime) and
views: `jobs_by_site_status` for what the site holds, `attempts_by_site_finished`
(a reduce over a time range) for what finished recently. The lease (holder and
expiry) is read if the document carries one; a store without leases shows none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.documents import Doc, iso, lease_id, parse_iso, site_id
from reconciler.store.interface import Store

HELD_STATUSES = ("reserved", "submitted", "running", "failed")
FINISHED_VIEW = "mcprod/attempts_by_site_finished"
DAY = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Lease:
    holder: str
    expires_at: str | None


@dataclass(frozen=True)
class SiteOverview:
    name: str
    now: str
    heartbeat_at: str | None = None
    heartbeat_age_s: float | None = None
    host: str | None = None
    commit: str | None = None
    version: str | None = None
    lease: Lease | None = None
    held: Mapping[str, int] = field(default_factory=dict)  # status -> jobs held by the site
    finished_24h: Mapping[str, int] = field(default_factory=dict)  # attempt outcome -> count
    last_cycle: tuple[str, ...] = ()
    last_errors: tuple[str, ...] = ()
    last_alerts: tuple[str, ...] = ()
    proxy_expires_at: str | None = None
    known: bool = True  # False: no heartbeat document at all

    @property
    def running(self) -> int:
        return self.held.get("running", 0)

    @property
    def queued(self) -> int:
        """Reserved or submitted: handed to the batch system, not running yet."""
        return self.held.get("reserved", 0) + self.held.get("submitted", 0)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _lines(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _lease(doc: Doc | None) -> Lease | None:
    """The `lease:site:<name>` document, read defensively (its shape is the site cycle's)."""
    if doc is None:
        return None
    holder = doc.get("holder")
    if not isinstance(holder, dict) or not _text(holder.get("host")):
        return None
    who = (f"{holder.get('host')}:{holder.get('work_dir')} (pid {holder.get('pid')})")
    return Lease(who, _text(doc.get("expires_at")))


def _age(stamp: str | None, now: dt.datetime) -> float | None:
    if stamp is None:
        return None
    try:
        return (now - parse_iso(stamp)).total_seconds()
    except ValueError:
        return None


def read_site(store: Store, name: str, now: dt.datetime) -> SiteOverview:
    doc, lease = store.get_many([site_id(name), lease_id(name)])
    rows = store.view("mcprod/jobs_by_site_status",
                      keys=[[name, status] for status in HELD_STATUSES], reduce=True)
    held: dict[str, int] = {}
    for row in rows:  # one count per key that has rows
        held[str(row.key[1])] = held.get(str(row.key[1]), 0) + int(row.value)
    finished: dict[str, int] = {}
    since = iso(now - DAY)
    for outcome in ("completed", "failed"):
        counted = store.view(FINISHED_VIEW, startkey=[name, outcome, since],
                             endkey=[name, outcome, {}], reduce=True)
        finished[outcome] = int(counted[0].value) if counted else 0
    if doc is None:
        return SiteOverview(name, iso(now), held=held, finished_24h=finished, known=False)
    beat = _text(doc.get("heartbeat_at"))
    return SiteOverview(
        name,
        iso(now),
        heartbeat_at=beat,
        heartbeat_age_s=_age(beat, now),
        host=_text(doc.get("host")),
        commit=_text(doc.get("commit")),
        version=_text(doc.get("version")),
        lease=_lease(lease),
        held=held,
        finished_24h=finished,
        last_cycle=_lines(doc.get("last_cycle")),
        last_errors=_lines(doc.get("last_errors")),
        last_alerts=_lines(doc.get("last_alerts")),
        proxy_expires_at=_text(doc.get("proxy_expires_at")),
    )


def known_sites(store: Store) -> list[str]:
    """Sites that ever held a job or wrote a heartbeat, from the finished-attempts view."""
    rows = store.view(FINISHED_VIEW, reduce=True, group_level=1)
    return sorted({str(row.key[0]) for row in rows if row.key and row.key[0]})
