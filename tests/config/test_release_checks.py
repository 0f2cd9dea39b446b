"""Release files checked at pull-request time, and module checks from the store.

A pull request that only adds `rat-versions/<v>.yaml` is checked against its release
whenever the release can be reached, used by a campaign or not; in CI
(`--require-releases`) a release that is not on disk yet is an error. Without a
release on disk, module checks use the catalogue published in the store, and say so.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.config.corpus import BASE, RELEASE
from tests.helpers import run_mcprod

NEW_RELEASE = """\
version: "8.0.0"
env: /nonexistent/sw/8.0.0/env_rat-8.0.0.sh
phases:
  water: {dir: mac/production/water, prefix: Water}
  teloaded: {dir: mac/production/teloaded, prefix: TeLoaded}
internal_rate: [solr]
overrides: {WaterN16sourceRn: {event_mode: run_number}}
benchmarks:
  default: {cpu_s_per_event: 0.4, bytes_per_event: 24000}
  WaterBi214Rn: {cpu_s_per_event: 1.0, bytes_per_event: 1000}
"""


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    return repo


def test_a_new_release_file_no_campaign_uses_is_checked_against_its_release(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    (repo / "rat-versions" / "8.0.0.yaml").write_text(NEW_RELEASE)
    result = run_mcprod(["validate", "--repo", str(repo), "--rat-root", f"8.0.0={RELEASE}"])
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"rat-versions/8.0.0.yaml:5:3: phases.teloaded: macro folder mac/production/teloaded"
        f" does not exist in the release {RELEASE}",
        "rat-versions/8.0.0.yaml:7:13: overrides.WaterN16sourceRn: no macro of the release"
        " produces this module (did you mean WaterN16sourceRun?)",
        "rat-versions/8.0.0.yaml:10:3: benchmarks.WaterBi214Rn: no macro of the release"
        " produces this module (did you mean WaterBi214Run?)",
        "3 errors, 0 warnings in 5 files",
    ]


def test_an_unused_generator_in_internal_rate_is_a_warning(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    text = NEW_RELEASE.replace("  teloaded: {dir: mac/production/teloaded, prefix: TeLoaded}\n",
                               "  scint: {dir: mac/production/scint, prefix: Scint}\n")
    text = text.replace("WaterN16sourceRn", "WaterN16sourceRun").replace("Bi214Rn", "Bi214Run")
    (repo / "rat-versions" / "8.0.0.yaml").write_text(text)
    result = run_mcprod(["validate", "--repo", str(repo), "--rat-root", f"8.0.0={RELEASE}"])
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines() == [
        "rat-versions/8.0.0.yaml:6:17: warning: internal_rate[0]: no macro of the release"
        " uses the generator 'solr' (did you mean solar?)",
        "0 errors, 1 warning in 5 files",
    ]


def test_in_ci_a_release_file_whose_release_is_not_on_disk_is_an_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    args = ["validate", "--repo", str(repo), "--rat-root", f"1.0.0={RELEASE}"]
    assert run_mcprod(args).returncode == 0  # 2.0.0 is not on disk: fine outside CI
    result = run_mcprod([*args, "--require-releases"])
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "rat-versions/2.0.0.yaml:3:1: the release of RAT 2.0.0 is not on disk"
        " (env /nonexistent/sw/2.0.0/env_rat-2.0.0.sh): a rat-versions file can be merged"
        " only once its release is on CVMFS, where it is checked",
        "1 error, 0 warnings in 4 files",
    ]


# GitHub's workflow command: ::severity key=value,...::message, with ',' ':' '%' and
# newlines escaped in values and '%' and newlines in the message.
ANNOTATION = re.compile(
    r"::(?P<severity>error|warning) file=(?P<file>[^,:\n]+),line=(?P<line>[0-9]+),"
    r"col=(?P<col>[0-9]+),title=(?P<title>[^,:\n]+)::(?P<message>[^\r\n]*)"
)


def test_github_format_is_one_workflow_annotation_per_problem(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "campaigns").mkdir()
    (repo / "campaigns" / "w.yaml").write_text(
        'label: w\nrat_version: "1.0.0"\npriority: 50%\nsites: [gamma]\n'
        "modules:\n  - {module: WaterBi214Rn, run_numbers: [100151]}\n"
    )
    result = run_mcprod(
        ["validate", "--repo", "repo", "--rat-root", f"1.0.0={RELEASE}", "--format", "github"],
        cwd=tmp_path,
    )
    assert result.returncode == 1
    *annotations, summary = result.stdout.splitlines()
    parsed = [ANNOTATION.fullmatch(line) for line in annotations]
    assert all(parsed), annotations
    assert [(m["severity"], m["file"], m["line"], m["col"]) for m in parsed if m] == [
        ("error", "repo/campaigns/w.yaml", "3", "1"),
        ("error", "repo/campaigns/w.yaml", "4", "9"),
        ("error", "repo/campaigns/w.yaml", "6", "6"),
    ]
    assert parsed[0] is not None
    assert parsed[0]["message"] == "priority: expected an integer, got '50%25'"
    assert summary == "3 errors, 0 warnings in 5 files"


def test_module_checks_without_a_release_use_the_published_catalogue(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "rat-versions" / "2.0.0.yaml").unlink()  # publish needs every release on disk
    (repo / "sites" / "alpha.yaml").write_text(
        (repo / "sites" / "alpha.yaml").read_text().replace(', "2.0.0": /opt/rat/2.0.0/env.sh', "")
    )
    url = f"sqlite:///{tmp_path}/state.db"
    assert run_mcprod(["db", "init", "--db", url, "--repo", str(repo)]).returncode == 0
    published = run_mcprod(
        ["publish", "--db", url, "--repo", str(repo), "--rat-root", f"1.0.0={RELEASE}"]
    )
    assert published.returncode == 0, published.stderr
    (repo / "campaigns").mkdir()
    (repo / "campaigns" / "w.yaml").write_text(
        'label: w\nrat_version: "1.0.0"\nmodules:\n'
        "  - {module: WaterBi214Rn, run_numbers: [100151]}\n"
    )
    without = run_mcprod(["validate", "--repo", str(repo)])
    assert without.returncode == 0
    assert "module checks for RAT 1.0.0 were skipped" in without.stdout
    result = run_mcprod(["validate", "--repo", str(repo)], env={"MCPROD_DB": url})
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "campaigns/w.yaml:4:6: modules[0] (WaterBi214Rn): module: no module 'WaterBi214Rn'"
        " in RAT 1.0.0 (did you mean 'WaterBi214Run'?)"
    )
    assert re.fullmatch(
        r"note: module checks for RAT 1\.0\.0 used the catalogue published in the store"
        r" \(production_information:1\.0\.0\)\n",
        result.stderr,
    )
