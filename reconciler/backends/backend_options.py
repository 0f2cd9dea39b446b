"""Reading a site file's backend options, with one error style for every backend."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.errors import BackendError


def option_str(options: Mapping[str, object], key: str) -> str | None:
    """A string option, or None when absent; numbers are accepted and converted."""
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BackendError(f"backend option '{key}': expected a string, got {value!r}")
    return str(value)


def option_int(options: Mapping[str, object], key: str, default: int, minimum: int) -> int:
    value = options.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BackendError(
            f"backend option '{key}': expected an integer of at least {minimum}, got {value!r}"
        )
    return value


def option_str_list(options: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = options.get(key)
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise BackendError(f"backend option '{key}': expected a list of strings, got {value!r}")
    return tuple(value)
