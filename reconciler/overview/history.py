"""Timestamps for the dashboard's plots, from per-attempt views (no new state is kept).

A campaign's burn-down is when each of its jobs completed (`completions_by_campaign`:
the finish time of the attempt that completed it); a site's throughput is when its
attempts finished, by outcome (`attempts_by_site_finished`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from reconciler.documents import parse_iso
from reconciler.store.interface import Store


def _times(values: Iterable[object]) -> list[dt.datetime]:
    times = []
    for value in values:
        if isinstance(value, str):
            try:
                times.append(parse_iso(value))
            except ValueError:
                continue  # a malformed stamp in a document: left out of the plot
    return sorted(times)


def completion_times(store: Store, label: str) -> list[dt.datetime]:
    rows = store.view("mcprod/completions_by_campaign", startkey=[label], endkey=[label, {}])
    return _times(row.key[1] for row in rows if isinstance(row.key, list) and len(row.key) > 1)


def finished_times(store: Store, site: str, outcome: str) -> list[dt.datetime]:
    rows = store.view("mcprod/attempts_by_site_finished", startkey=[site, outcome],
                      endkey=[site, outcome, {}], reduce=False)
    return _times(row.key[2] for row in rows if isinstance(row.key, list) and len(row.key) > 2)
