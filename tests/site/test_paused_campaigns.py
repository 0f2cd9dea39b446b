"""A paused campaign, in full site cycles: its declared state is the only truth.

Pausing writes no job document; the site cycle reads only the queues of the campaigns
it may run, so a paused campaign's jobs wait (and are not even read) while the others
run, and go first after resuming, also when an earlier release left `paused: true`
on them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.site.cycle_support import (
    EXAMPLE,
    git,
    jobs,
    make_site_repo,
    parsed,
    reconcile,
    store_of,
    wait_until_backend_idle,
)

DEMO = (EXAMPLE / "campaigns" / "quickstart-demo.yaml").read_text()


def _held(state: str) -> str:
    """A second campaign with the demo's modules and a higher priority than the demo."""
    return (
        DEMO.replace("label: quickstart-demo", "label: held")
        .replace("ratdb_tag: quickstart-demo", "ratdb_tag: held")
        .replace("priority: 100", "priority: 500")
        .replace("state: active", f"state: {state}")
    )


def _declare(repo: Path, state: str) -> None:
    (repo / "campaigns" / "held.yaml").write_text(_held(state))
    git(repo, "add", "campaigns")
    git(repo, "commit", "-qm", f"held: {state}")


def _by_campaign(repo: Path) -> dict[str, list[dict[str, Any]]]:
    store = store_of(repo)
    try:
        result: dict[str, list[dict[str, Any]]] = {}
        for doc in jobs(store):
            result.setdefault(doc["campaign"], []).append(doc)
        return result
    finally:
        store.close()


def test_a_paused_campaign_waits_while_others_run_and_goes_first_after_resume(
    tmp_path: Path,
) -> None:
    repo = make_site_repo(tmp_path / "repo")
    work = repo / ".mcprod" / "sites" / "local"
    _declare(repo, "active")
    first = parsed(reconcile(repo))
    assert first["submitted"] == 4  # max_running 4: held has the higher priority
    held = _by_campaign(repo)["held"]
    assert sum(1 for j in held if j["status"] != "waiting") == 4
    wait_until_backend_idle(work)

    _declare(repo, "paused")
    store = store_of(repo)
    seq = store.changes().last_seq
    store.close()
    paused = parsed(reconcile(repo))
    assert paused["submitted"] == 4
    store = store_of(repo)
    changed = {change.id for change in store.changes(since=seq).results}
    # An earlier release wrote `paused: true` on the jobs of a paused campaign.
    for doc in jobs(store):
        if doc["campaign"] == "held" and doc["status"] == "waiting":
            store.update({**doc, "paused": True})
    store.close()
    held_waiting = {j["_id"] for j in _by_campaign(repo)["held"] if j["status"] == "waiting"}
    assert len(held_waiting) == 8
    # The cycle submitted the demo's jobs and wrote none of the paused campaign's
    # waiting jobs (pausing writes no job document).
    assert not changed & held_waiting
    wait_until_backend_idle(work)

    _declare(repo, "active")
    deadline = time.monotonic() + 60
    while True:
        parsed(reconcile(repo))
        now = {j["_id"]: j for j in _by_campaign(repo)["held"]}
        if all(now[i]["status"] != "waiting" for i in held_waiting):
            break
        assert time.monotonic() < deadline, [now[i]["status"] for i in held_waiting]
        wait_until_backend_idle(work)
    assert all(now[i]["attempts"] for i in held_waiting)
