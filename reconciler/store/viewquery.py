"""View query parameters and the `_count` reduce, shared by both stores (pure logic).

CouchDB's rules, in one place: `key` is a range of one key; with `descending`,
`startkey` is the high end; `reduce` defaults to true for a view with a reduce
function; grouping by `group_level` keeps the first N elements of array keys;
`skip` and `limit` apply to the rows returned (grouped rows when reducing).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.store.collate import sort_key
from reconciler.store.interface import ViewRow


@dataclass(frozen=True)
class ViewQuery:
    keys: tuple[Any, ...] | None
    key: Any
    startkey: Any
    endkey: Any
    reduce: bool
    group_level: int | None
    include_docs: bool
    limit: int | None
    skip: int
    descending: bool

    @classmethod
    def build(
        cls,
        name: str,
        *,
        key: Any,
        keys: Sequence[Any] | None,
        startkey: Any,
        endkey: Any,
        reduce: bool | None,
        group_level: int | None,
        include_docs: bool,
        limit: int | None,
        skip: int,
        descending: bool,
        has_reduce: bool,
    ) -> ViewQuery:
        do_reduce = has_reduce if reduce is None else reduce
        if do_reduce and not has_reduce:
            raise ValueError(f"view {name} has no reduce function")
        if do_reduce and include_docs:
            raise ValueError(f"view {name}: include_docs needs reduce=False")
        if group_level is not None and (not do_reduce or group_level < 0):
            raise ValueError(f"view {name}: group_level needs reduce and must be >= 0")
        if keys is not None and (key is not None or startkey is not None or endkey is not None):
            raise ValueError(f"view {name}: keys cannot be combined with key, startkey or endkey")
        if (limit is not None and limit < 0) or skip < 0:
            raise ValueError(f"view {name}: limit and skip must be >= 0")
        return cls(
            keys=tuple(keys) if keys is not None else None,
            key=key,
            startkey=startkey,
            endkey=endkey,
            reduce=do_reduce,
            group_level=group_level,
            include_docs=include_docs,
            limit=limit,
            skip=skip,
            descending=descending,
        )

    @property
    def low(self) -> Any:
        """Lowest key wanted (None: unbounded)."""
        if self.key is not None:
            return self.key
        return self.endkey if self.descending else self.startkey

    @property
    def high(self) -> Any:
        if self.key is not None:
            return self.key
        return self.startkey if self.descending else self.endkey

    def page(self, rows: list[ViewRow]) -> list[ViewRow]:
        end = None if self.limit is None else self.skip + self.limit
        return rows[self.skip : end]

    def http_params(self) -> dict[str, str]:
        """Query string parameters for CouchDB (JSON-encoded where CouchDB wants JSON)."""
        params: dict[str, str] = {"reduce": _flag(self.reduce)}
        for name in ("key", "startkey", "endkey"):
            value = getattr(self, name)
            if value is not None:
                params[name] = json.dumps(value)
        if self.reduce and (self.group_level or self.keys is not None):
            if self.group_level:
                params["group_level"] = str(self.group_level)
            else:
                params["group"] = "true"
        if self.include_docs:
            params["include_docs"] = "true"
        if self.limit is not None:
            params["limit"] = str(self.limit)
        if self.skip:
            params["skip"] = str(self.skip)
        if self.descending:
            params["descending"] = "true"
        return params


def _flag(value: bool) -> str:
    return "true" if value else "false"


def reduce_count(
    counts: list[tuple[Any, int]], group_level: int | None, *, by_key: bool
) -> list[ViewRow]:
    """The `_count` reduce over (key, rows with that key), already in view order.

    No grouping: one row with key null (none when there are no rows, as CouchDB).
    `group_level` N: one row per distinct key prefix of N elements (non-array keys
    whole). `by_key` (a multi-key query without a level): one row per exact key.
    """
    if not group_level and not by_key:
        total = sum(n for _, n in counts)
        return [ViewRow(None, None, total)] if total else []
    grouped: list[ViewRow] = []
    last: bytes | None = None
    for key, n in counts:
        if group_level and isinstance(key, list):
            key = key[:group_level]
        marker = sort_key(key)
        if marker == last:
            previous = grouped[-1]
            grouped[-1] = ViewRow(None, previous.key, previous.value + n)
        else:
            grouped.append(ViewRow(None, key, n))
            last = marker
    return grouped
