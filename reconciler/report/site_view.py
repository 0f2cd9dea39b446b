"""`mcprod status --site S`: one site's heartbeat, lease, jobs and last cycle (pure)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.overview.sites import SiteOverview


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def render_site_text(site: SiteOverview) -> str:
    if not site.known:
        heartbeat = "none (this site never ran a cycle against this store)"
    else:
        heartbeat = f"{site.heartbeat_at} ({age_text(site.heartbeat_age_s)})"
        if site.host:
            heartbeat += f" from {site.host}"
    lease = "no lease"
    if site.lease is not None:
        lease = f"held by {site.lease.holder}"
        if site.lease.expires_at:
            lease += f" until {site.lease.expires_at}"
    lines = [
        f"site {site.name}",
        f"  heartbeat: {heartbeat}",
        f"  commit: {site.commit or 'unknown'}, mcprod {site.version or 'unknown'}",
        f"  lease: {lease}",
        f"  jobs now: running {site.running}, queued {site.queued}"
        f" (reserved {site.held.get('reserved', 0)}, submitted {site.held.get('submitted', 0)}),"
        f" failed {site.held.get('failed', 0)}",
        f"  last 24 h: completed {site.finished_24h.get('completed', 0)},"
        f" failed {site.finished_24h.get('failed', 0)}",
        "  grid proxy: "
        + (f"valid until {site.proxy_expires_at}" if site.proxy_expires_at else "not known"),
    ]
    if site.last_errors:
        lines.append(f"  errors of the last cycle: {len(site.last_errors)}")
        lines.extend(f"    {error}" for error in site.last_errors)
    else:
        lines.append("  errors of the last cycle: none")
    if site.last_alerts:
        lines.append(f"  needing a person after the last cycle: {len(site.last_alerts)}")
        lines.extend(f"    {alert}" for alert in site.last_alerts)
    if site.last_cycle:
        lines.append("  last cycle:")
        lines.extend(f"    {line.strip()}" for line in site.last_cycle)
    return "\n".join(lines) + "\n"


def site_as_json(site: SiteOverview) -> dict[str, Any]:
    return {
        "site": site.name,
        "known": site.known,
        "now": site.now,
        "heartbeat_at": site.heartbeat_at,
        "heartbeat_age_s": None if site.heartbeat_age_s is None else round(site.heartbeat_age_s, 1),
        "host": site.host,
        "commit": site.commit,
        "version": site.version,
        "lease": None if site.lease is None else {
            "holder": site.lease.holder, "expires_at": site.lease.expires_at,
        },
        "running": site.running,
        "queued": site.queued,
        "held": dict(sorted(site.held.items())),
        "last_24h": dict(sorted(site.finished_24h.items())),
        "proxy_expires_at": site.proxy_expires_at,
        "last_errors": list(site.last_errors),
        "last_alerts": list(site.last_alerts),
        "last_cycle": list(site.last_cycle),
    }


def render_site_json(site: SiteOverview) -> str:
    return json.dumps(site_as_json(site), indent=2) + "\n"
