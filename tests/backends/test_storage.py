"""Output verification and copies, on real files, directly and through the gfal2 tools."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from reconciler.job.returncard import (
    CardFile,
    ReturnCard,
    ReturnCardError,
    read_return_card,
    write_return_card,
)
from reconciler.job.storage import StorageError, copy_to_storage, output_url, verify_output

DATA = b"stand-in events\n" * 1000


def adler(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


@pytest.fixture(params=[False, True], ids=["direct", "gfal"])
def use_gfal(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def stored(tmp_path: Path, data: bytes = DATA) -> str:
    path = tmp_path / "storage" / "label" / "Module" / "Module_r1_s0_p1.root"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path.as_uri()


def test_an_intact_file_verifies(tmp_path: Path, use_gfal: bool) -> None:
    assert verify_output(stored(tmp_path), len(DATA), adler(DATA), use_gfal=use_gfal) is None


def test_a_missing_file(tmp_path: Path, use_gfal: bool) -> None:
    url = (tmp_path / "nothing.root").as_uri()
    assert verify_output(url, len(DATA), adler(DATA), use_gfal=use_gfal) == "missing on storage"


def test_a_truncated_file(tmp_path: Path, use_gfal: bool) -> None:
    url = stored(tmp_path, DATA[:100])
    assert verify_output(url, len(DATA), adler(DATA), use_gfal=use_gfal) == (
        f"size 100 on storage, {len(DATA)} recorded"
    )


def test_a_file_with_the_wrong_checksum(tmp_path: Path, use_gfal: bool) -> None:
    corrupt = DATA[:-1] + b"X"
    url = stored(tmp_path, corrupt)
    assert verify_output(url, len(DATA), adler(DATA), use_gfal=use_gfal) == (
        f"adler32 {adler(corrupt)} on storage, {adler(DATA)} recorded"
    )


def test_copy_to_storage_creates_folders(tmp_path: Path, use_gfal: bool) -> None:
    source = tmp_path / "out.root"
    source.write_bytes(DATA)
    url = output_url((tmp_path / "se").as_uri() + "/", "water-v2", "WaterBi214", "out.root")
    assert url == (tmp_path / "se").as_uri() + "/water-v2/WaterBi214/out.root"
    copy_to_storage(source, url, use_gfal=use_gfal)
    assert (tmp_path / "se/water-v2/WaterBi214/out.root").read_bytes() == DATA
    assert verify_output(url, len(DATA), adler(DATA)) is None


def test_a_failed_gfal_copy_says_so(tmp_path: Path) -> None:
    source = tmp_path / "out.root"
    source.write_bytes(DATA)
    with pytest.raises(StorageError) as failed:
        copy_to_storage(source, "gsiftp://localhost:1/x/out.root")
    assert str(failed.value).startswith(
        f"copy of {source} to gsiftp://localhost:1/x/out.root failed: gfal-copy error: "
    )


def test_return_card_round_trip(tmp_path: Path) -> None:
    card = ReturnCard(
        "job:M:r1:s0:p1", 2, (CardFile("M_r1_s0_p1.root", "ratds", "file:///se/x", 10, "0badcafe"),)
    )
    write_return_card(tmp_path / "card.json", card)
    assert read_return_card(tmp_path / "card.json") == card


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no return card at {path}"),
        ("{", "unreadable return card {path}: Expecting property name enclosed in double "
              "quotes: line 1 column 2 (char 1)"),
        ('{"files": 3}', "unreadable return card {path}: no 'files' list"),
        ('{"files": [{"name": "a"}]}', "unreadable return card {path}: files[0]: missing or bad"
                                       " 'url'"),
    ],
)
def test_bad_return_cards(tmp_path: Path, content: str | None, problem: str) -> None:
    path = tmp_path / "card.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ReturnCardError) as bad:
        read_return_card(path)
    assert str(bad.value) == problem.format(path=path)
