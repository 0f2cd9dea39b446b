"""The example corpus: each case file is dropped into a copy of a small base repository.

`tests/examples/{valid,invalid}/<kind>/<name>.yaml` goes to the kind's folder of
a copy of `tests/examples/base/` (generic YAML cases go to `campaigns/`); `<name>.expected`
beside it holds the exact diagnostic lines `mcprod validate` prints (the summary
line excluded). The release `tests/examples/rat-release/` serves RAT 1.0.0.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BASE = EXAMPLES / "base"
RELEASE = EXAMPLES / "rat-release"
FOLDER_OF_KIND = {
    "campaign": "campaigns",
    "yaml": "campaigns",
    "rat-version": "rat-versions",
    "site": "sites",
}


@dataclass(frozen=True)
class Case:
    source: Path
    valid: bool
    kind: str

    @property
    def id(self) -> str:
        return f"{'valid' if self.valid else 'invalid'}/{self.kind}/{self.source.name}"

    @property
    def expected_file(self) -> Path:
        return self.source.with_name(self.source.name.rsplit(".", 1)[0] + ".expected")

    def expected_lines(self) -> list[str]:
        return self.expected_file.read_text(encoding="utf-8").splitlines()

    def build_repo(self, where: Path) -> Path:
        repo = where / "repo"
        shutil.copytree(BASE, repo)
        target = repo / FOLDER_OF_KIND[self.kind] / self.source.name
        target.parent.mkdir(exist_ok=True)
        if self.source.is_dir():
            shutil.copytree(self.source, target)
        else:
            shutil.copyfile(self.source, target)
        return repo


def all_cases() -> list[Case]:
    cases = []
    for validity in ("valid", "invalid"):
        for kind_dir in sorted((EXAMPLES / validity).iterdir()):
            for source in sorted(kind_dir.iterdir()):
                if source.name.endswith(".expected"):
                    continue
                cases.append(Case(source, validity == "valid", kind_dir.name))
    return cases


def validate_args(repo: Path) -> list[str]:
    return ["validate", "--repo", str(repo), "--rat-root", f"1.0.0={RELEASE}"]
