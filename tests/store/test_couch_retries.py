"""The CouchDB store retries connection errors and 5xx with backoff, never 409."""

from __future__ import annotations

import urllib.parse

import pytest

from reconciler.errors import Conflict, StoreUnavailable
from reconciler.store.couch import CouchStore
from tests.store.faultproxy import Fault, FaultPlan, fault_proxy


def _through(proxy: str, db_url: str) -> str:
    return proxy + urllib.parse.urlsplit(db_url).path


def test_server_errors_are_retried(couch_server_url: str, couch_db_url: str) -> None:
    db = urllib.parse.urlsplit(couch_db_url).path
    plan = FaultPlan([Fault("POST", "/_bulk_docs"), Fault("POST", "/_bulk_docs", 500)])
    with fault_proxy(couch_server_url, plan) as proxy:
        store = CouchStore(_through(proxy, couch_db_url))
        results = store.bulk_create([{"_id": "a"}, {"_id": "b"}])
    assert [(r.id, r.ok) for r in results] == [("a", True), ("b", True)]
    assert plan.seen[("POST", f"{db}/_bulk_docs")] == 3


def test_conflicts_are_never_retried(couch_server_url: str, couch_db_url: str) -> None:
    db = urllib.parse.urlsplit(couch_db_url).path
    plan = FaultPlan()
    with fault_proxy(couch_server_url, plan) as proxy:
        store = CouchStore(_through(proxy, couch_db_url))
        first = store.create({"_id": "d", "n": 1}).doc
        store.update({**first, "n": 2})
        with pytest.raises(Conflict):
            store.update({**first, "n": 3})
    assert plan.seen[("PUT", f"{db}/d")] == 3  # create, update, the one losing update


def test_giving_up_names_the_last_problem(couch_server_url: str, couch_db_url: str) -> None:
    plan = FaultPlan([Fault("GET", "/d") for _ in range(4)])
    with fault_proxy(couch_server_url, plan) as proxy:
        store = CouchStore(_through(proxy, couch_db_url))
        with pytest.raises(StoreUnavailable) as caught:
            store.get("d")
    assert str(caught.value) == (
        f"{_through(proxy, couch_db_url)}: server error 503 (service_unavailable: injected);"
        " gave up after 4 attempts"
    )


def test_a_stalled_request_times_out_and_is_retried(
    couch_server_url: str, couch_db_url: str
) -> None:
    db = urllib.parse.urlsplit(couch_db_url).path
    plan = FaultPlan([Fault("GET", "/d", status=0, stall_s=2.0)])
    with fault_proxy(couch_server_url, plan) as proxy:
        store = CouchStore(_through(proxy, couch_db_url), timeout=0.5)
        store.create({"_id": "d", "n": 1})
        assert store.get("d") is not None and store.get("d")["n"] == 1  # type: ignore[index]
    assert plan.seen[("GET", f"{db}/d")] == 3  # stalled, retried, then the second get
