"""The pure parts of the catalogue: names, macro facts, rendering and reading back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.catalogue.generate import build_catalogue, find_release_root
from reconciler.catalogue.macro import NotText, analyse_macro, decode_macro
from reconciler.catalogue.naming import module_name
from reconciler.catalogue.render import (
    catalogue_from_json,
    catalogue_json,
    content_hash_of,
    file_stem,
    legacy_py,
    modules_as_dict,
)
from reconciler.errors import McprodError
from reconciler.model import Catalogue, ModuleInfo, Override, Phase, RatVersion, SourceRef


@pytest.mark.parametrize(
    ("prefix", "parts", "name"),
    [
        ("PartialScint", ("Ac228_scint.mac",), "PartialScintAc228_Scint"),
        ("TeLoaded", ("perylene", "bi214.mac"), "TeLoadedPeryleneBi214"),
        ("TeLoaded", ("bipo212-pure_RAT5.mac",), "TeLoadedBipo212-pure_RAT5"),
        ("Water", ("sub_dir", "a__b.mac"), "WaterSub_DirA__B"),
        ("Water", ("N16sourceRun.mac",), "WaterN16sourceRun"),
    ],
)
def test_module_names(prefix: str, parts: tuple[str, ...], name: str) -> None:
    assert module_name(prefix, parts) == name


def test_macro_facts_ignore_comments_but_keep_their_placeholders() -> None:
    facts = analyse_macro(
        "  /rat/proclast outntuple # trailing comment\n"
        "#/rat/proc outroot\n"
        "/generator/add solar pep\n"
        "# /generator/rate/set 3\n"
        "/generator/pos/set 0 0 ${z} ${z} # was ${old_z}\n"
        "$x ${1bad} ${ok_2}\n"
    )
    assert facts.processors == frozenset({"outntuple"})
    assert facts.generators == ("solar",)
    assert facts.sets_rate is False
    assert facts.placeholders == ("ok_2", "old_z", "z")


def test_decode_points_at_the_first_bad_byte() -> None:
    assert decode_macro("é ok\n".encode()) == "é ok\n"
    assert decode_macro(b"ab\n\xc3\xa9x\xff") == NotText(2, 3, "byte 0xff")
    assert decode_macro(b"abc\x00\xff") == NotText(1, 4, "NUL byte")


def _catalogue() -> Catalogue:
    modules = {
        "B": ModuleInfo("time", "mac/b.mac", ("ntuple",), ("rate",)),
        "A": ModuleInfo("number", "mac/a.mac", ("ratds", "other_ratds"), (), "tagged"),
    }
    return Catalogue("6.18.7", modules, content_hash_of(modules))


def test_json_round_trip_and_hash_check() -> None:
    cat = _catalogue()
    text = catalogue_json(cat)
    back = catalogue_from_json(json.loads(text))
    assert catalogue_json(back) == text
    assert list(modules_as_dict(cat)) == ["A", "B"]
    assert "other_suffix" not in modules_as_dict(cat)["B"]
    tampered = json.loads(text)
    tampered["modules"]["B"]["event_mode"] = "number"
    with pytest.raises(McprodError, match=r"content_hash \w+ does not match its modules"):
        catalogue_from_json(tampered)


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ({"event_mode": "sometimes", "path": "x"}, "event_mode must be one of"),
        ({"event_mode": "run"}, "path must be a string"),
        ({"event_mode": "run", "path": "x", "outputs": ["root"]}, "outputs must be a list of"),
        ({"event_mode": "run", "path": "x", "template": [1]}, "template must be a list of names"),
    ],
)
def test_catalogue_from_json_rejects_bad_shapes(module: dict[str, object], message: str) -> None:
    with pytest.raises(McprodError, match=f"catalogue module X: {message}"):
        catalogue_from_json({"rat_version": "1", "modules": {"X": module}})


def test_legacy_py_and_file_stem() -> None:
    namespace: dict[str, object] = {}
    exec(legacy_py(_catalogue()), namespace)
    assert namespace["production_modules"] == modules_as_dict(_catalogue())
    assert file_stem("6.18.7") == "production_information_6_18_7"
    assert file_stem("7.0.8-rc1") == "production_information_7_0_8_rc1"


def _rat(env: str, **kwargs: object) -> RatVersion:
    return RatVersion("1.0.0", env, SourceRef("rat-versions/1.0.0.yaml"), **kwargs)  # type: ignore[arg-type]


def test_find_release_root_prefers_the_rat_folder_beside_the_env_script(tmp_path: Path) -> None:
    env = tmp_path / "1.0.0" / "env_rat-1.0.0.sh"
    assert find_release_root(_rat(str(env))) is None
    env.parent.mkdir()
    assert find_release_root(_rat(str(env))) == env.parent
    (env.parent / "rat-1.0.0").mkdir()
    assert find_release_root(_rat(str(env))) == env.parent / "rat-1.0.0"


def test_build_catalogue_without_a_repo_points_at_the_rat_version_source(tmp_path: Path) -> None:
    (tmp_path / "mac").mkdir()
    (tmp_path / "mac" / "water_bi214.mac").write_text("/rat/proc outroot\n")
    rat = _rat(
        "/x/env.sh",
        phases=(Phase("p", "mac", "P"), Phase("q", "missing", "Q")),
        overrides={"PWater_Bi214Run": Override(event_mode="run")},
    )
    catalogue, diagnostics = build_catalogue(rat, tmp_path)
    assert catalogue is None
    assert [d.text() for d in diagnostics] == [
        f"rat-versions/1.0.0.yaml:1:1: phases.q: macro folder missing does not exist "
        f"in the release {tmp_path.as_posix()}",
        "rat-versions/1.0.0.yaml:1:1: overrides.PWater_Bi214Run: no macro of the release "
        "produces this module (did you mean PWater_Bi214?)",
    ]


def test_module_names_a_campaign_cannot_spell_are_warned_about(tmp_path: Path) -> None:
    (tmp_path / "mac").mkdir()
    (tmp_path / "mac" / "Bi214 v2.mac").write_text("/rat/proc outroot\n")
    catalogue, diagnostics = build_catalogue(
        _rat("/x/env.sh", phases=(Phase("p", "mac", "P"),)), tmp_path
    )
    assert catalogue is not None
    assert list(catalogue.modules) == ["PBi214 v2"]
    assert [d.text() for d in diagnostics] == [
        f"{tmp_path.as_posix()}/mac/Bi214 v2.mac:1:1: warning: module name 'PBi214 v2' has "
        "characters a campaign cannot name (letters, digits, _ + - only): "
        "rename the macro to use it"
    ]
