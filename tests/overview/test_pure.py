"""Pure parts: reason folding, untrusted data documents, file selection, idle cycles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reconciler.overview.files import FileFilter, OutputFile, check_file, select_files
from reconciler.report.triage import normalise_reason
from reconciler.site.proxy import ProxyState, proxy_alert
from reconciler.site.result import SiteCycleResult

DOC = {"_id": "data:ntuple:M:r1:s0:p1", "module": "M", "run": 1, "pass": 1, "data_type": "ntuple"}


def test_reasons_fold_numbers_paths_urls_and_ids() -> None:
    one = ("output check failed: M_r1_s0_p1.root: size 10 on storage, 12 recorded; job"
           " job:M:r1:s0:p1.a2 (id 4711) at srm://se.example/snoplus/M_r1.root and"
           " /work/j/a1/job.err")
    two = ("output check failed: N_r7_s0_p2.root: size 3 on storage, 99 recorded; job"
           " job:N:r7:s0:p2.a1 (id 12) at srm://other/x.root and /scratch/b/job.err")
    assert normalise_reason(one) == normalise_reason(two) == (
        "output check failed: <file>: size N on storage, N recorded; job <job> (id N) at <url>"
        " and <path>"
    )
    assert normalise_reason("gfal-copy error: 70: adler32 deadbeef12 mismatch") == (
        "gfal-copy error: N: adler32 <hex> mismatch"
    )


def test_untrusted_file_entries_are_refused_with_the_reason() -> None:
    good = {"name": "M_r1_s0_p1.ntuple.root", "url": "file:///s/M_r1_s0_p1.ntuple.root",
            "size": 5, "adler32": "0A0B0C0D"}
    checked = check_file(good, DOC)
    assert isinstance(checked, OutputFile)
    assert (checked.adler32, checked.sub_run, checked.is_ntuple) == ("0a0b0c0d", 0, True)
    assert check_file({**good, "name": "../../etc/passwd"}, DOC) == (
        "data:ntuple:M:r1:s0:p1: file name '../../etc/passwd' is not a plain file name"
    )
    assert check_file({**good, "module": "a/b"}, DOC) == (
        "data:ntuple:M:r1:s0:p1: module 'a/b' is not a plain name"
    )
    assert check_file({**good, "url": "javascript:alert(1)"}, DOC) == (
        "data:ntuple:M:r1:s0:p1: M_r1_s0_p1.ntuple.root: URL 'javascript:alert(1)' has no known"
        " scheme"
    )
    assert check_file({**good, "size": "5"}, DOC) == (
        "data:ntuple:M:r1:s0:p1: M_r1_s0_p1.ntuple.root: size '5' is not a byte count"
    )
    assert check_file("x", DOC) == "data:ntuple:M:r1:s0:p1: a file entry is not an object"


def _file(run: int, pass_: int, name: str = "f.root") -> OutputFile:
    return OutputFile(name, f"file:///s/{run}/{pass_}/{name}", 1, "00000001", "M", run, 0,
                      pass_, "ratds", None)


def test_latest_pass_per_module_and_run() -> None:
    files = [_file(1, 1), _file(1, 2), _file(2, 1)]
    assert select_files(files, FileFilter(latest_pass=True)) == [_file(1, 2), _file(2, 1)]
    assert select_files(files, FileFilter(pass_=1, runs=(1, 1))) == [_file(1, 1)]


def test_idle_cycle_and_what_needs_a_person() -> None:
    assert SiteCycleResult("s", waiting_skipped={"retry back-off": 3}).idle
    assert not SiteCycleResult("s", completed=1).idle
    assert not SiteCycleResult("s", alerts=["x"]).idle
    assert SiteCycleResult("s", errors=["x"]).needs_human


def test_proxy_alerts() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    path = Path("/tmp/x509up_u1")
    soon = ProxyState(path, True, now + dt.timedelta(hours=5))
    assert proxy_alert(soon, now, 24 * 3600) == (
        "grid proxy /tmp/x509up_u1 expires in 5.0 h (at 2026-01-01T05:00:00Z);"
        " renew it (voms-proxy-init)"
    )
    assert proxy_alert(ProxyState(path, True, now + dt.timedelta(days=3)), now, 86400) is None
    assert proxy_alert(ProxyState(path, True, now), now, 86400) == (
        "grid proxy /tmp/x509up_u1 expired at 2026-01-01T00:00:00Z; renew it (voms-proxy-init)"
    )
    assert proxy_alert(ProxyState(path, True, problem="no such file"), now, 86400) == (
        "grid proxy /tmp/x509up_u1: no such file; create one (voms-proxy-init)"
    )
    assert proxy_alert(ProxyState(path, False, problem="no such file"), now, 86400) is None
