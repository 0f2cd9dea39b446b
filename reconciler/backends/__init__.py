"""Batch-system backends: a Protocol (base.py) and a registry of named implementations."""

from reconciler.backends.base import (
    Backend,
    BackendContext,
    BackendState,
    SubmitResult,
    SubmitSpec,
    backend_kinds,
    create_backend,
)

__all__ = [
    "Backend",
    "BackendContext",
    "BackendState",
    "SubmitResult",
    "SubmitSpec",
    "backend_kinds",
    "create_backend",
]
