"""The named backends a site file can declare (`backend.type`), and how to make one.

The registry imports the implementations; they import only `base`, so no cycle.
"""

from __future__ import annotations

from reconciler.backends import condor, dirac, local, slurm
from reconciler.backends.base import Backend, BackendContext, BackendFactory
from reconciler.errors import BackendError
from reconciler.model import BackendConfig

FACTORIES: dict[str, BackendFactory] = {
    "local": local.create,
    "slurm": slurm.create,
    "dirac": dirac.create,
    "condor": condor.create,
}


def backend_kinds() -> list[str]:
    return sorted(FACTORIES)


def create_backend(config: BackendConfig, context: BackendContext) -> Backend:
    """The backend a site file declares, configured with its options."""
    try:
        factory = FACTORIES[config.type]
    except KeyError:
        known = ", ".join(backend_kinds())
        raise BackendError(f"unknown backend type '{config.type}' (known: {known})") from None
    return factory(config.options, context)
