"""One run of `mcprod validate` reports every mistake: schema, cross-file and module checks.

The campaign below holds eight deliberate mistakes of the kinds a new production
manager makes. Before, fixing them took four runs (types first, then event fields,
then the run list, only then the module typo and the template value).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.config.corpus import BASE, RELEASE
from tests.helpers import run_mcprod

EIGHT_MISTAKES = """\
label: eight-mistakes
rat_version: "1.0.0"
priority: high
sites: [alpha, gamma]
modules:
  - {module: WaterPmt_Betagammas, n_ev: 1e6, ev_per_run: 300, template: {radius: 7250}}
  - {module: WaterBi214Run}
  - {module: WaterBi214Run, runlist: runlists/missing.txt, priority: 120}
  - {module: WaterBi214Rn, run_numbers: [100151]}
  - {module: WaterN16sourceRun, n_ev: 100, ev_per_run: 10, run_numbers: [100151]}
  - {module: ScintSolar_B8, t_run: 5, t_format: year, n_runs: 3}
"""

F = "campaigns/eight-mistakes.yaml"


def test_eight_mistakes_in_one_run_each_with_file_and_line(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    (repo / "campaigns").mkdir()
    (repo / F).write_text(EIGHT_MISTAKES)
    result = run_mcprod(["validate", "--repo", str(repo), "--rat-root", f"1.0.0={RELEASE}"])
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{F}:3:1: priority: expected an integer, got 'high'",
        f"{F}:4:16: sites[1]: unknown site 'gamma'",
        f"{F}:6:41: modules[0] (WaterPmt_Betagammas): n_ev: 1e6 reads as text in YAML,"
        " not a number: write 1000000",
        f"{F}:7:5: modules[1] (WaterBi214Run): no event fields: give n_ev + ev_per_run or"
        " ev_per_run + n_runs (number mode), t_run + t_format + n_runs (time mode),"
        " run_numbers or runlist (run mode), or run_numbers or runlist with n_ev +"
        " ev_per_run (run_number mode)",
        f"{F}:8:29: modules[2] (WaterBi214Run): runlist: 'runlists/missing.txt' does not exist",
        f"{F}:9:6: modules[3] (WaterBi214Rn): module: no module 'WaterBi214Rn' in RAT 1.0.0"
        " (did you mean 'WaterBi214Run'?)",
        f"{F}:10:5: modules[4] (WaterN16sourceRun): template: no value for ${{z}}"
        " (the macro mac/production/water/N16sourceRun.mac has ${z})",
        f"{F}:11:39: modules[5] (ScintSolar_B8): t_format: expected one of day, second,"
        " got 'year'",
        "8 errors, 0 warnings in 5 files",
    ]


def test_a_bad_entry_skips_only_its_own_checks(tmp_path: Path) -> None:
    """Entry 0 is broken (module checks on it would say nothing true); entry 1 is checked."""
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    (repo / "campaigns").mkdir()
    (repo / "campaigns" / "half.yaml").write_text(
        "label: half\nrat_version: \"1.0.0\"\nmodules:\n"
        "  - {module: NoSuchModule, n_ev: -5, ev_per_run: 10}\n"
        "  - {module: NoSuchEither, n_ev: 5, ev_per_run: 10}\n"
    )
    result = run_mcprod(["validate", "--repo", str(repo), "--rat-root", f"1.0.0={RELEASE}"])
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines[:-1]] == [
        "campaigns/half.yaml:4:28", "campaigns/half.yaml:5:6"
    ]
    assert "NoSuchModule" not in lines[1] and "no module 'NoSuchEither'" in lines[1]
