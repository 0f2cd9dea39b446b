"""The catalogue the fixture release tests/fixtures/rat-release must produce, module by module.

Each entry names the rule it exercises, so a failure says which rule broke.
"""

from __future__ import annotations

from typing import Any

W = "mac/production/water"
P = "mac/production/partialscint"
S = "mac/production/scint"
T = "mac/production/teloaded"


def _m(
    mode: str, path: str, outputs: list[str], template: list[str] | None = None
) -> dict[str, Any]:
    return {"event_mode": mode, "path": path, "outputs": outputs, "template": template or []}


EXPECTED_MODULES: dict[str, dict[str, Any]] = {
    # plain number mode, both processors with /rat/proc
    "WaterBi214": _m("number", f"{W}/Bi214.mac", ["ratds", "ntuple"]),
    # `_` pieces capitalised; /rat/proclast counts
    "WaterTl208_Exwater": _m("number", f"{W}/Tl208_exwater.mac", ["ratds"]),
    # override beats the Run suffix
    "WaterN16sourceRun": _m("run_number", f"{W}/N16sourceRun.mac", ["ratds", "ntuple"]),
    # name ends in Run -> run
    "WaterBi214Run": _m("run", f"{W}/Bi214Run.mac", ["ratds"]),
    # sub-folder in the name; placeholder
    "WaterPmtBetagammas": _m("number", f"{W}/pmt/betagammas.mac", ["ratds", "ntuple"], ["radius"]),
    # internal-rate generator -> time
    "WaterSolar_Nue": _m("time", f"{W}/solar_nue.mac", ["ntuple"]),
    "WaterReactorIbd": _m("time", f"{W}/reactor/ibd.mac", ["ratds"]),
    # commented-out rate, generator and processor do not count
    "WaterAmBe_Commented": _m("number", f"{W}/AmBe_commented.mac", ["ratds"]),
    # override sets outputs and other_suffix
    "WaterBi214_Other": {
        **_m("number", f"{W}/Bi214_other.mac", ["ratds", "other_ratds"]),
        "other_suffix": "tagged",
    },
    # CRLF line endings; an internal_rate generator added by the rat-version file
    "WaterGeonu_Crlf": _m("time", f"{W}/geonu_crlf.mac", ["ntuple"]),
    # /generator/rate/set -> time; placeholders sorted
    "PartialScintAc228_Scint": _m("time", f"{P}/Ac228_scint.mac", ["ratds"], ["rate", "z"]),
    "PartialScintPo210": _m("number", f"{P}/Po210.mac", ["ntuple"]),
    # outputs always in the order ratds, ntuple
    "PartialScintNtuple_Then_Root": _m("number", f"{P}/ntuple_then_root.mac", ["ratds", "ntuple"]),
    # override beats /generator/rate/set
    "ScintCalibAmBe": _m("number", f"{S}/calib/AmBe.mac", ["ratds"]),
    # unique placeholders, also from comments; $plain and ${ spaced } are not placeholders
    "ScintK40": _m("number", f"{S}/K40.mac", ["ratds"], ["day", "z"]),
    "ScintDeepNestedFolderCo60": _m("number", f"{S}/deep/nested/folder/Co60.mac", ["ratds"]),
    "ScintMulti_Part_Name": _m("number", f"{S}/multi_part_name.mac", ["ratds"]),
    # the issue's own example
    "TeLoadedPeryleneBi214": _m("number", f"{T}/perylene/bi214.mac", ["ratds", "ntuple"]),
    # the legacy module name of DOMAIN.md: the rest of each piece is kept
    "TeLoadedBipo212-pure_RAT5": _m("time", f"{T}/bipo212-pure_RAT5.mac", ["ratds"]),
    # contains Run but does not end in it
    "TeLoadedRunnerUp": _m("number", f"{T}/RunnerUp.mac", ["ratds"]),
    "TeLoadedPeryleneTl208Run": _m("run", f"{T}/perylene/Tl208Run.mac", ["ntuple"]),
    # the Run suffix wins over an internal-rate generator
    "TeLoadedPeryleneReactorRun": _m("run", f"{T}/perylene/reactorRun.mac", ["ratds"]),
}
