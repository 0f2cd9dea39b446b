"""load_repository: the typed model, its sources, run lists, git commit, module checks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.catalogue.generate import release_catalogues
from reconciler.config.filecheck import MAX_FILE_BYTES
from reconciler.config.load import load_repository, require_valid
from reconciler.errors import InvalidRepository
from reconciler.model import SourceRef
from tests.config.corpus import BASE, RELEASE

CAMPAIGN = """\
# yaml-language-server: $schema=../schemas/campaign.schema.json
label: water-v2
rat_version: "1.0.0"
ratdb_tag: water-v2
state: paused
sites: [alpha]
retry: {max_attempts: 4, on: ["DUE TO TIME LIMIT"]}
modules:
  - {module: WaterPmt_Betagammas, n_ev: 1000, ev_per_run: 300, template: {radius: 7250}}
  - module: WaterBi214Run
    runlist: runlists/good.txt
    priority: 120
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    (root / "campaigns").mkdir()
    (root / "campaigns" / "water-v2.yaml").write_text(CAMPAIGN)
    return root


def test_the_model_holds_typed_records_that_remember_their_source(repo: Path) -> None:
    model, diagnostics = load_repository(repo, catalogues=release_catalogues({"1.0.0": RELEASE}))
    assert diagnostics == []
    assert model is not None
    campaign = model.campaigns["water-v2"]
    assert (campaign.rat_version, campaign.ratdb_tag, campaign.state) == (
        "1.0.0",
        "water-v2",
        "paused",
    )
    assert campaign.sites == ("alpha",)
    assert (campaign.retry.max_attempts, campaign.retry.on) == (4, ("DUE TO TIME LIMIT",))
    first, second = campaign.modules
    assert first.source == SourceRef("campaigns/water-v2.yaml", 9, 5)
    assert (first.n_ev, first.ev_per_run, dict(first.template)) == (1000, 300, {"radius": 7250})
    assert second.source == SourceRef("campaigns/water-v2.yaml", 10, 5)
    assert second.runlist == "runlists/good.txt"
    assert second.run_numbers == (100151, 100152, 100153)
    assert second.priority == 120
    rat = model.rat_versions["1.0.0"]
    assert [(p.name, p.dir, p.prefix) for p in rat.phases] == [
        ("water", "mac/production/water", "Water"),
        ("scint", "mac/production/scint", "Scint"),
    ]
    assert rat.overrides["WaterN16sourceRun"].event_mode == "run_number"
    assert rat.benchmark_for("WaterBi214Run") == (rat.benchmarks["default"], True)
    alpha, beta = model.sites["alpha"], model.sites["beta"]
    assert alpha.backend.type == "slurm"
    assert dict(alpha.backend.options) == {"partition": "snoplus", "time_limit": "20:00:00"}
    assert alpha.rat_locations == {"1.0.0": "CVMFS", "2.0.0": "/opt/rat/2.0.0/env.sh"}
    assert (beta.max_running, beta.enabled, beta.accepts) == (100, True, ("beta-*",))
    assert beta.storage.se is None and beta.storage.base_url == "file:///srv/snoplus"
    assert model.commit is None


def test_the_commit_is_the_head_of_a_git_repository(repo: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=repo,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "declare")
    model = require_valid(repo, catalogues=release_catalogues({"1.0.0": RELEASE}))
    assert model.commit == git("rev-parse", "HEAD")


def test_require_valid_raises_with_every_diagnostic(repo: Path) -> None:
    (repo / "campaigns" / "broken.yaml").write_text("label: broken\nmodules: []\n")
    (repo / "sites" / "alpha.yaml").write_text("name: alpha\n")
    with pytest.raises(InvalidRepository) as raised:
        require_valid(repo, catalogues=release_catalogues({"1.0.0": RELEASE}))
    texts = [d.text() for d in raised.value.diagnostics]
    assert texts == [
        "campaigns/broken.yaml:1:1: missing required field 'rat_version'",
        "campaigns/broken.yaml:2:1: modules: must not be empty",
        "sites/alpha.yaml:1:1: missing required fields 'backend', 'rat_locations', 'storage'",
    ]
    assert str(raised.value) == (
        "campaigns/broken.yaml:1:1: missing required field 'rat_version' (and 2 more errors)"
    )


def test_without_module_checks_nothing_is_skipped_silently_or_reported(repo: Path) -> None:
    model, diagnostics = load_repository(repo)
    assert model is not None and diagnostics == []
    _, diagnostics = load_repository(repo, catalogues=release_catalogues())
    assert [d.text() for d in diagnostics] == [
        "rat-versions/1.0.0.yaml:4:1: warning: env: no RAT release found from this path, so"
        " module checks for RAT 1.0.0 were skipped (pass --rat-root 1.0.0=DIR to check them)"
    ]


def test_the_release_is_found_from_the_env_path(repo: Path, tmp_path: Path) -> None:
    """CVMFS layout: sw/<v>/env_rat-<v>.sh beside the tree sw/<v>/rat-<v>/."""
    software = tmp_path / "sw" / "1.0.0"
    shutil.copytree(RELEASE, software / "rat-1.0.0")
    version_file = repo / "rat-versions" / "1.0.0.yaml"
    version_file.write_text(
        version_file.read_text().replace(
            "/nonexistent/sw/1.0.0/env_rat-1.0.0.sh", f"{software}/env_rat-1.0.0.sh"
        )
    )
    (repo / "campaigns" / "water-v2.yaml").write_text(
        CAMPAIGN.replace("WaterBi214Run", "WaterBi214")
    )
    _, diagnostics = load_repository(repo, catalogues=release_catalogues())
    assert [d.text() for d in diagnostics] == [
        "campaigns/water-v2.yaml:10:5: modules[1] (WaterBi214): module: no module"
        " 'WaterBi214' in RAT 1.0.0 (did you mean 'WaterBi214Run'?)"
    ]


def test_a_run_list_shared_by_two_campaigns_is_reported_once(repo: Path) -> None:
    for label in ("first", "second"):
        (repo / "campaigns" / f"{label}.yaml").write_text(
            f'label: {label}\nrat_version: "1.0.0"\n'
            "modules: [{module: WaterBi214Run, runlist: runlists/duplicate.txt}]\n"
        )
    _, diagnostics = load_repository(repo, catalogues=release_catalogues({"1.0.0": RELEASE}))
    assert [d.text() for d in diagnostics] == [
        "runlists/duplicate.txt:3:1: run 100151 is listed twice (first at line 1)"
    ]


def test_a_symlinked_run_list_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("100151\n")
    (repo / "runlists" / "linked.txt").symlink_to(outside)
    (repo / "campaigns" / "water-v2.yaml").write_text(
        CAMPAIGN.replace("runlists/good.txt", "runlists/linked.txt")
    )
    _, diagnostics = load_repository(repo, catalogues=release_catalogues({"1.0.0": RELEASE}))
    assert [d.message for d in diagnostics] == [
        "modules[1] (WaterBi214Run): runlist: 'runlists/linked.txt' is a symbolic link;"
        " a run list must be a regular file in the repository: copy it in"
    ]


def test_a_symlink_to_dev_zero_in_campaigns_is_refused_without_reading_it(repo: Path) -> None:
    # Reading /dev/zero would never end: the refusal must come from lstat alone.
    (repo / "campaigns" / "zero.yaml").symlink_to("/dev/zero")
    _, diagnostics = load_repository(repo)
    assert [d.text() for d in diagnostics] == [
        "campaigns/zero.yaml:1:1: is a symbolic link; a declared file must be a regular file"
        " in the repository: copy it in"
    ]


def test_a_named_pipe_in_sites_is_refused(repo: Path) -> None:
    os.mkfifo(repo / "sites" / "pipe.yaml")  # opening it would block until a writer comes
    _, diagnostics = load_repository(repo)
    assert [d.text() for d in diagnostics] == [
        "sites/pipe.yaml:1:1: is not a regular file (a device, pipe or socket);"
        " a declared file must be one"
    ]


def test_an_oversized_file_is_refused(repo: Path) -> None:
    with (repo / "campaigns" / "big.yaml").open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    _, diagnostics = load_repository(repo)
    assert [d.text() for d in diagnostics] == [
        "campaigns/big.yaml:1:1: is 50.0 MB, more than the 50 MB a declared file may be: split it"
    ]


def test_a_symlinked_declared_folder_is_refused(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (repo / "sites").rename(elsewhere)
    (repo / "sites").symlink_to(elsewhere)
    _, diagnostics = load_repository(repo)
    assert "sites:1:1: is a symbolic link; sites/ must be a folder of the repository itself" in [
        d.text() for d in diagnostics
    ]


def test_a_folder_that_is_not_a_repository(tmp_path: Path) -> None:
    _, diagnostics = load_repository(tmp_path)
    assert [d.message for d in diagnostics] == [
        "not an mcprod repository: no campaigns/, rat-versions/ or sites/ folder"
    ]
    _, diagnostics = load_repository(tmp_path / "missing")
    assert [d.message for d in diagnostics] == [
        "no such directory: pass --repo with a repository folder"
    ]


def test_problems_of_the_release_itself_are_reported(repo: Path, tmp_path: Path) -> None:
    release = tmp_path / "release"
    shutil.copytree(RELEASE / "mac" / "production" / "water", release / "mac/production/water")
    _, diagnostics = load_repository(repo, catalogues=release_catalogues({"1.0.0": release}))
    assert [d.text() for d in diagnostics] == [
        "rat-versions/1.0.0.yaml:7:3: phases.scint: macro folder mac/production/scint"
        f" does not exist in the release {release}",
    ]


def test_jobs_that_would_wait_forever_name_every_site_and_why(repo: Path) -> None:
    alpha = repo / "sites" / "alpha.yaml"
    alpha.write_text(alpha.read_text().replace("name: alpha\n", "name: alpha\nenabled: false\n"))
    (repo / "campaigns" / "water-v2.yaml").write_text(
        # (without its tag: RAT 2.0.0 declares no way to pass one, another error)
        CAMPAIGN.replace('"1.0.0"', '"2.0.0"').replace("sites: [alpha]\n", "")
        .replace("ratdb_tag: water-v2\n", "")
    )
    _, diagnostics = load_repository(repo)
    assert [d.text() for d in diagnostics] == [
        "campaigns/water-v2.yaml:3:1: rat_version: no enabled site can run RAT 2.0.0 for this"
        " campaign, so its jobs would wait forever: alpha is disabled;"
        " beta lacks 2.0.0 in rat_locations"
    ]


def test_a_broken_site_file_does_not_make_campaigns_look_stranded(repo: Path) -> None:
    (repo / "sites" / "alpha.yaml").write_text("name: alpha\nbackend: {type: slurm}\n")
    _, diagnostics = load_repository(repo)
    assert [d.text() for d in diagnostics] == [
        "sites/alpha.yaml:1:1: missing required fields 'rat_locations', 'storage'"
    ]


def test_a_yml_twin_of_a_yaml_file_is_an_error(repo: Path) -> None:
    shutil.copyfile(repo / "sites" / "beta.yaml", repo / "sites" / "beta.yml")
    _, diagnostics = load_repository(repo)
    assert [d.text() for d in diagnostics] == [
        "sites/beta.yml:1:1: beta.yaml and beta.yml both declare 'beta': keep one of them"
    ]
