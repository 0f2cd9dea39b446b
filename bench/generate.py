"""Benchmark `mcprod generate` over a generated RAT release of 2,000 macros (target < 1 s).

Prints the time of the catalogue build in-process (best of 5) and of the whole CLI
command (`python -m reconciler generate`, interpreter start-up included).

    .venv/bin/python bench/generate.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from reconciler.catalogue.generate import build_catalogue  # noqa: E402
from reconciler.catalogue.render import catalogue_json  # noqa: E402
from reconciler.config.ratfile import load_rat_version  # noqa: E402

MACROS = 2000
PHASES = ("water", "partialscint", "scint", "teloaded")
VERSION = "9.9.9"

MACRO = """# generated benchmark macro {n}
/rat/db/set DETECTOR geo_file "geo/snoplus_water.geo"
/run/initialize
/rat/proc frontend
/rat/proc trigger
/rat/proc eventbuilder
/rat/proc calibratePMT
/rat/proc scintFitter
/rat/proc outroot
/rat/proc outntuple
/generator/add {generator} Bi214:fill:poisson
/generator/pos/set 0 0 ${{z}}
{rate}/rat/run/start
"""


def make_release(root: Path) -> Path:
    release = root / "release"
    for n in range(MACROS):
        phase = PHASES[n % len(PHASES)]
        folder = release / "mac" / "production" / phase / f"group_{n % 25}" / f"sub{n % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        generator = "solar" if n % 7 == 0 else "decaychain"
        rate = "/generator/rate/set ${rate}\n" if n % 5 == 0 else ""
        suffix = "Run" if n % 11 == 0 else ""
        text = MACRO.format(n=n, generator=generator, rate=rate)
        (folder / f"Isotope_{n}{suffix}.mac").write_text(text)
    repo = root / "repo"
    (repo / "rat-versions").mkdir(parents=True)
    phases = "".join(
        f"  {p}: {{dir: mac/production/{p}, prefix: {p.title().replace('_', '')}}}\n"
        for p in PHASES
    )
    (repo / "rat-versions" / f"{VERSION}.yaml").write_text(
        "# yaml-language-server: $schema=../schemas/rat-version.schema.json\n"
        f'version: "{VERSION}"\nenv: /cvmfs/bench/env.sh\nphases:\n{phases}'
        "internal_rate: [solar]\n"
    )
    return release


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        release = make_release(Path(tmp))
        repo = Path(tmp) / "repo"
        rat, problems = load_rat_version(repo, VERSION)
        assert rat is not None, problems
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            catalogue, diagnostics = build_catalogue(rat, release, repo)
            assert catalogue is not None, diagnostics
            catalogue_json(catalogue)
            timings.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", "generate", "--rat-version", VERSION,
             "--rat-root", str(release), "--repo", str(repo), "--out", str(Path(tmp) / "out"),
             "--legacy-py"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=False,
        )
        cli = time.perf_counter() - start
        assert result.returncode == 0, result.stderr
        print(f"generate: {len(catalogue.modules)} modules from {MACROS} macros")
        print(f"  build + render in-process: best {min(timings):.3f} s, "
              f"median {sorted(timings)[2]:.3f} s (target < 1 s)")
        print(f"  CLI end to end (with interpreter start-up, --legacy-py): {cli:.3f} s")


if __name__ == "__main__":
    main()
