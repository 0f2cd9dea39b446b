"""The environment a job starts with: an allow-list, never the reconciler's own.

The reconciler's environment holds the database URL and its credentials
(`MCPROD_DB`, `MCPROD_DB_USER`, `MCPROD_DB_PASSWORD`, ...). A job that inherited
it would hand them to every worker node, and Slurm would keep them in its state
directory. So a backend starts a job with only what a job needs: the names
below, taken from the reconciler's environment when set there, plus the
variables the site file declares under `env:`. Nothing named `MCPROD_*` ever
passes, whatever a site file says.
"""

from __future__ import annotations

from collections.abc import Mapping

ALLOWED = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "SHELL",
    # Grid credentials are located by these (the proxy file itself stays on disk).
    "X509_USER_PROXY",
    "X509_CERT_DIR",
    "X509_VOMS_DIR",
    # Debian's gfal2 tools run on the system Python (see TEST-SERVICES.md).
    "GFAL_PYTHONBIN",
)
RESERVED_PREFIX = "MCPROD_"


def job_environment(
    source: Mapping[str, str], declared: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The allow-listed variables of `source` that are set, then the site's own."""
    env = {name: source[name] for name in ALLOWED if name in source}
    for name, value in (declared or {}).items():
        if not name.startswith(RESERVED_PREFIX):
            env[name] = value
    return env
