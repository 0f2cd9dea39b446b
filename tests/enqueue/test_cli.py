"""The planner's commands as a user runs them: outputs, formats, errors (SQLite store)."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.catalogue.generate import build_catalogue
from reconciler.catalogue.render import catalogue_json
from reconciler.config.load import require_valid
from reconciler.store.open import open_store
from tests.enqueue.repo import VERSION, Repo, all_jobs, campaign_yaml, make_repo
from tests.helpers import init_sqlite, run_mcprod

MODULES = [
    "{module: WaterBi214, n_ev: 2500, ev_per_run: 1000}",
    "{module: ScintSolar_Nue, t_run: 1, t_format: day, n_runs: 2}",
]


def _repo(tmp_path: Path, modules: list[str] = MODULES, **kw: object) -> Repo:
    return make_repo(tmp_path / "repo", {"c": campaign_yaml("c", modules, **kw)})  # type: ignore[arg-type]


def _mcprod(repo: Repo, db: str, *args: str, rat: bool = True):  # type: ignore[no-untyped-def]
    if db.startswith("sqlite:"):
        init_sqlite(db)  # what `mcprod db init` does: no other command creates it
    extra = repo.rat_root if rat else []
    return run_mcprod([*args, "--repo", str(repo.root), "--db", db, *extra])


def test_plan_markdown_against_a_fresh_sqlite_store(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    db = f"sqlite://{tmp_path}/fresh/plan.db"
    result = _mcprod(repo, db, "plan", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Plan for `") and lines[0].endswith("the store holds 0 jobs.")
    assert "### campaign c: RAT 0.1.0-standin, active, 5 jobs declared, sites: local" in lines
    assert "| WaterBi214 | 3 | 0 | 0 | 0 | 2,500 | 0.00 (default benchmark) | 25.0 kB |" in lines
    assert "| ScintSolar_Nue | 2 | 0 | 0 | 0 | n/a (2 jobs by time or run) | n/a | n/a |" in lines
    assert lines[-1] == (
        "**Total:** create 5, update 0, cancel 0, orphans 0; 0.00 CPU-hours, 25.0 kB output"
    )


def test_plan_json_lists_the_actions_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    db = f"sqlite://{tmp_path}/state.db"
    plan = json.loads(_mcprod(repo, db, "plan", "--format", "json").stdout)
    assert [(a["action"], a["module"], a["run"]) for a in plan["actions"]] == [
        ("create", "WaterBi214", 0), ("create", "WaterBi214", 1), ("create", "WaterBi214", 2),
        ("create", "ScintSolar_Nue", 0), ("create", "ScintSolar_Nue", 1),
    ]
    dry = _mcprod(repo, db, "reconcile", "--once", "--dry-run")
    assert dry.returncode == 0
    text_plan = _mcprod(repo, db, "plan")
    assert dry.stdout == text_plan.stdout + "dry run: nothing written\n"
    assert all_jobs(db, repo.root) == []


def test_reconcile_then_status_and_exactly(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    db = f"sqlite://{tmp_path}/state.db"
    first = _mcprod(repo, db, "reconcile", "--once")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[1] == (
        "created 5, already present 0, updated 0, cancelled 0, left alone (changed meanwhile) 0"
    )
    status = run_mcprod(["status", "--db", db, "--format", "json"])
    rows = json.loads(status.stdout)
    assert [(row["campaign"], row["state"], row["condition"]) for row in rows] == [
        ("c", "active", "Progressing")
    ]
    assert rows[0]["total"] == {
        "module": "total", "total": 5, "percent_complete": 0.0,
        "counts": {"waiting": 5, "reserved": 0, "submitted": 0, "running": 0,
                   "completed": 0, "failed": 0, "cancelled": 0, "deleted": 0},
    }
    text = run_mcprod(["status", "--db", db, "--label", "c"]).stdout.splitlines()
    assert text[0] == "c: active, Progressing: 5 jobs waiting or active"
    assert text[1].split() == ["module", "waiting", "reserved", "submitted",
                               "running", "completed", "failed", "cancelled", "total", "complete"]
    assert text[-1].split() == ["total", "5", "0", "0", "0", "0", "0", "0", "5", "0.0%"]
    out = tmp_path / "c.exactly"
    written = run_mcprod(["exactly", "c", "-o", str(out), "--db", db])
    assert written.returncode == 0
    assert out.read_text() == (
        "ScintSolar_Nue 0 1\nScintSolar_Nue 1 1\nWaterBi214 0 1\nWaterBi214 1 1\nWaterBi214 2 1\n"
    )
    missing = run_mcprod(["exactly", "nope", "--db", db])
    assert (missing.returncode, missing.stderr) == (
        1, f"error: exactly: no jobs labelled nope in {db}\n"
    )


def test_invalid_repository_applies_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.write_campaign("c", campaign_yaml("c", MODULES).replace("priority: 100", "priority: x"))
    db = f"sqlite://{tmp_path}/state.db"
    result = _mcprod(repo, db, "reconcile", "--once")
    assert (result.returncode, result.stderr) == (
        1, "campaigns/c.yaml:5:1: priority: expected an integer, got 'x'\n"
    )
    assert all_jobs(db, repo.root) == []


def test_module_missing_from_the_published_catalogue(tmp_path: Path) -> None:
    repo = _repo(tmp_path, [*MODULES, "{module: WaterNotThere, n_ev: 10, ev_per_run: 5}"])
    db = f"sqlite://{tmp_path}/state.db"
    declared = require_valid(repo.root)
    catalogue, _ = build_catalogue(declared.rat_versions[VERSION], repo.release, repo.root)
    assert catalogue is not None
    store = open_store(db, repo.root, create=True)
    store.create({"_id": f"production_information:{VERSION}", "type": "production_information",
                  **json.loads(catalogue_json(catalogue))})
    store.close()
    result = _mcprod(repo, db, "plan", rat=False)
    assert (result.returncode, result.stderr) == (
        1,
        "error: campaigns/c.yaml:10:5: modules[2] (WaterNotThere): module not in the "
        f"catalogue of RAT {VERSION}\n",
    )


def test_no_catalogue_anywhere(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = _mcprod(repo, f"sqlite://{tmp_path}/state.db", "plan", rat=False)
    assert (result.returncode, result.stderr) == (
        1,
        f"campaigns/c.yaml:2:1: rat_version {VERSION}: no module catalogue; give "
        f"--rat-root {VERSION}=DIR, install the release where its env script says, or "
        "publish it with `mcprod publish`\n",
    )


def test_unreachable_store_is_one_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = _mcprod(repo, "http://127.0.0.1:9/mcprod", "reconcile", "--once")
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: http://127.0.0.1:9/mcprod")


def test_big_campaign_without_ratdb_tag_warns(tmp_path: Path) -> None:
    # 0.0001 CPU-s per event (the example's default benchmark): 4e10 events = 1,111 hours.
    repo = _repo(tmp_path, ["{module: WaterBi214, n_ev: 40000000000, ev_per_run: 10000000000}"],
                 ratdb_tag=None)
    result = _mcprod(repo, f"sqlite://{tmp_path}/state.db", "plan")
    assert result.stdout.splitlines()[-2:] == [
        "campaigns/c.yaml:2:1: warning: campaign c needs 1,111 CPU-hours without a ratdb_tag; "
        "set ratdb_tag so that a table uploaded mid-campaign does not change the physics",
        # The legacy sizing rule: min(1 GB / 10 B, 20 h / 0.0001 s) events per job.
        "campaigns/c.yaml:7:5: warning: campaign c: WaterBi214: a job of 10,000,000,000 events"
        " writes ~100.0 GB (over 1 GB); needs ~277.8 h of CPU (over 20 h):"
        " ev_per_run 100,000,000 fits",
    ]


def test_prune_refusal_exits_1_and_says_what_it_would_do(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    db = f"sqlite://{tmp_path}/state.db"
    assert _mcprod(repo, db, "reconcile", "--once").returncode == 0
    fewer = "{module: WaterBi214, n_ev: 500, ev_per_run: 1000}"
    repo.write_campaign("c", campaign_yaml("c", [fewer, MODULES[1]]))
    repo.commit()
    plan = _mcprod(repo, db, "plan", "--prune", "--max-cancel", "1")
    assert "  withheld cancel job:WaterBi214:r1:s0:p1: beyond the entry's declared count" in (
        plan.stdout.splitlines()
    )
    result = _mcprod(repo, db, "reconcile", "--once", "--prune", "--max-cancel", "1")
    assert result.returncode == 1
    assert result.stderr == (
        "error: prune refused: it would cancel 2 jobs, more than --max-cancel 1; "
        "raise --max-cancel or set the campaign's state: cancelled\n"
    )


def test_removed_campaign_leaves_orphans_that_plan_reports_and_prune_keeps(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"c": campaign_yaml("c", MODULES[:1]),
                                         "d": campaign_yaml("d", MODULES[1:])})
    db = f"sqlite://{tmp_path}/state.db"
    assert _mcprod(repo, db, "reconcile", "--once").returncode == 0
    repo.remove_campaign("c")
    repo.commit("drop c")
    plan = _mcprod(repo, db, "plan", "--prune").stdout.splitlines()
    assert "campaign c (no longer declared: its jobs are orphans)" in plan
    assert "  orphan job:WaterBi214:r0:s0:p1: waiting, campaign no longer declared" in plan
    assert _mcprod(repo, db, "reconcile", "--once", "--prune").returncode == 0
    assert {j["status"] for j in all_jobs(db, repo.root) if j["campaign"] == "c"} == {"waiting"}
