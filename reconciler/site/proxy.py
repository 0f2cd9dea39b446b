"""The grid proxy's lifetime, read every cycle so that cron mails before it runs out.

Grid storage (srm, root, davs, gsiftp, https, ...) needs a valid X.509 proxy; an
expired one shows up only as failed copies hours later. (The DIRAC backend asks
its own client, `dirac-proxy-info`, before it submits.) The cycle reads
the proxy named by `X509_USER_PROXY` (else the grid tools' default
`/tmp/x509up_u<uid>`) with `openssl x509 -enddate`, records its end in the
heartbeat, and raises an alert when it is missing, expired or close to expiry.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from reconciler.model import Site

GRID_SCHEMES = frozenset({"srm", "root", "xroot", "davs", "dav", "gsiftp", "https", "http"})
DEFAULT_WARN_S = 24 * 3600.0


@dataclass(frozen=True)
class ProxyState:
    path: Path
    needed: bool  # the site cannot work without one
    expires_at: dt.datetime | None = None
    problem: str | None = None  # why the end date is not known


def needs_proxy(site: Site) -> bool:
    return urlparse(site.storage.base_url).scheme.lower() in GRID_SCHEMES


def proxy_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("X509_USER_PROXY") or f"/tmp/x509up_u{os.getuid()}")


def read_proxy(path: Path, needed: bool) -> ProxyState:
    if not path.is_file():
        return ProxyState(path, needed, problem="no such file")
    try:
        done = subprocess.run(
            ["openssl", "x509", "-noout", "-enddate", "-in", str(path)],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return ProxyState(path, needed, problem=f"cannot run openssl: {exc}")
    line = done.stdout.strip()
    if done.returncode != 0 or not line.startswith("notAfter="):
        return ProxyState(path, needed, problem="not a certificate openssl can read")
    try:
        # e.g. "notAfter=Dec  3 00:00:00 2026 GMT"
        end = dt.datetime.strptime(" ".join(line[9:].split()), "%b %d %H:%M:%S %Y %Z")
    except ValueError:
        return ProxyState(path, needed, problem=f"unexpected end date {line[9:]!r}")
    return ProxyState(path, needed, expires_at=end.replace(tzinfo=dt.UTC))


def proxy_alert(state: ProxyState, now: dt.datetime, warn_s: float) -> str | None:
    """What a person must do about the proxy, or None (pure)."""
    if state.expires_at is None:
        if not state.needed and state.problem == "no such file":
            return None
        return f"grid proxy {state.path}: {state.problem}; create one (voms-proxy-init)"
    left = (state.expires_at - now).total_seconds()
    end = state.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if left <= 0:
        return f"grid proxy {state.path} expired at {end}; renew it (voms-proxy-init)"
    if left < warn_s:
        return (f"grid proxy {state.path} expires in {left / 3600:.1f} h (at {end});"
                " renew it (voms-proxy-init)")
    return None
