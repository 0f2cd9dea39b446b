"""`mcprod publish` against both stores: idempotent, all-or-nothing, guarded."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import git
import pytest

from reconciler.store.open import open_store
from tests.helpers import REPO_ROOT, run_mcprod

FIXTURE_RELEASE = REPO_ROOT / "tests/fixtures/rat-release"
FIXTURE_VERSION = REPO_ROOT / "tests/fixtures/rat-versions/9.9.0.yaml"

SITE = """\
# yaml-language-server: $schema=../schemas/site.schema.json
name: testsite
backend: {type: local}
max_running: 4
rat_locations: {"9.9.0": CVMFS}
storage: {base_url: "file:///tmp/mcprod-publish-test"}
"""

CAMPAIGN = """\
# yaml-language-server: $schema=../schemas/campaign.schema.json
label: bi214-test
rat_version: "9.9.0"
modules:
  - {module: WaterBi214, n_ev: 1000, ev_per_run: 100}
"""


@pytest.fixture
def config_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for folder in ("campaigns", "rat-versions", "sites"):
        (repo / folder).mkdir(parents=True)
    shutil.copy(FIXTURE_VERSION, repo / "rat-versions" / "9.9.0.yaml")
    (repo / "sites" / "testsite.yaml").write_text(SITE, encoding="utf-8")
    (repo / "campaigns" / "bi214-test.yaml").write_text(CAMPAIGN, encoding="utf-8")
    shutil.copytree(REPO_ROOT / "schemas", repo / "schemas")
    with git.Repo.init(repo) as handle:  # closes git's persistent helper processes
        handle.index.add(["campaigns", "rat-versions", "sites", "schemas"])
        handle.index.commit("declare a campaign")
    return repo


@pytest.fixture
def release(tmp_path: Path) -> Path:
    copy = tmp_path / "release"
    shutil.copytree(FIXTURE_RELEASE, copy)
    return copy


def publish(repo: Path, db: str, release: Path, *extra: str) -> tuple[int, str, str]:
    result = run_mcprod(
        ["publish", "--repo", str(repo), "--db", db, "--rat-root", f"9.9.0={release}", *extra]
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result.returncode, result.stdout, result.stderr


def published(db: str, repo: Path) -> dict[str, object] | None:
    store = open_store(db, repo)
    try:
        return store.get("production_information:9.9.0")
    finally:
        store.close()


def test_publish_writes_the_catalogue_then_nothing_the_second_time(
    config_repo: Path, release: Path, store_url: str
) -> None:
    code, out, err = publish(config_repo, store_url, release)
    assert code == 0, err
    assert "production_information:9.9.0: created (22 modules" in out
    first = published(store_url, config_repo)
    assert first is not None
    with git.Repo(config_repo) as handle:
        head = handle.head.commit.hexsha
    assert first["commit"] == head
    assert first["type"] == "production_information"
    modules = first["modules"]
    assert isinstance(modules, dict)
    assert modules["WaterBi214Run"]["event_mode"] == "run"

    code, out, _ = publish(config_repo, store_url, release)
    assert code == 0
    assert "production_information:9.9.0: unchanged" in out
    assert "design documents unchanged" in out
    second = published(store_url, config_repo)
    assert second is not None and second["_rev"] == first["_rev"]


def test_a_changed_release_updates_the_catalogue(
    config_repo: Path, release: Path, store_url: str
) -> None:
    assert publish(config_repo, store_url, release)[0] == 0
    first = published(store_url, config_repo)
    extra = release / "mac/production/water/Co60.mac"
    extra.write_text("/rat/proc outroot\n/generator/add combo gun:point\n/run/beamOn 10\n")
    code, out, _ = publish(config_repo, store_url, release)
    assert code == 0
    assert "production_information:9.9.0: updated (23 modules" in out
    second = published(store_url, config_repo)
    assert first is not None and second is not None
    assert second["content_hash"] != first["content_hash"]
    assert "WaterCo60" in second["modules"]  # type: ignore[operator]


def test_dropping_a_module_an_active_campaign_uses_is_refused(
    config_repo: Path, release: Path, store_url: str
) -> None:
    assert publish(config_repo, store_url, release)[0] == 0
    before = published(store_url, config_repo)
    (release / "mac/production/water/Bi214.mac").unlink()
    code, _out, err = publish(config_repo, store_url, release)
    assert code == 1
    assert err == (
        "rat-versions/9.9.0.yaml:3:1: RAT 9.9.0: the new catalogue has no module WaterBi214, "
        "which active campaign bi214-test still uses (campaigns/bi214-test.yaml:5:5); "
        "refusing to publish: keep the macro or cancel the campaign\n"
    )
    assert published(store_url, config_repo) == before


def test_out_writes_importable_legacy_files(
    config_repo: Path, release: Path, sqlite_url: str, tmp_path: Path
) -> None:
    out_dir = tmp_path / "artefacts"
    code, out, err = publish(config_repo, sqlite_url, release, "--out", str(out_dir))
    assert code == 0, err
    legacy = out_dir / "production_information_9_9_0.py"
    assert f"wrote {legacy}" in out
    spec = importlib.util.spec_from_file_location("legacy_catalogue", legacy)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    document = published(sqlite_url, config_repo)
    assert document is not None
    assert module.production_modules == document["modules"]


def test_json_report(config_repo: Path, release: Path, sqlite_url: str) -> None:
    code, out, _ = publish(config_repo, sqlite_url, release, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert [c["status"] for c in report["catalogues"]] == ["created"]
    assert report["catalogues"][0]["rat_version"] == "9.9.0"


def test_a_version_without_a_release_is_an_error_and_nothing_is_written(
    config_repo: Path, sqlite_url: str
) -> None:
    result = run_mcprod(["publish", "--repo", str(config_repo), "--db", sqlite_url])
    assert result.returncode == 1
    assert (
        "rat-versions/9.9.0.yaml:3:1: RAT 9.9.0: no release found at the env path "
        "/cvmfs/snoplus.egi.eu/sl7/sw/9.9.0/env_rat-9.9.0.sh; pass --rat-root 9.9.0=DIR"
    ) in result.stderr
    assert "Traceback" not in result.stderr
    assert published(sqlite_url, config_repo) is None
