"""Reading a guide in docs/ as a script: its files and shell blocks, in order.

- A ```sh block is run with bash (`set -euo pipefail`) in the guide's sandbox, a
  fresh committed copy of examples/quickstart/ (the stand-in RAT release on disk,
  the embedded SQLite store), one block after the other, so later blocks see what
  earlier ones did. It must exit 0, unless an `<!-- expect exit N -->` comment
  stands right before it.
- A block whose first line is `# file: PATH` (yaml or text) is written to PATH in the
  sandbox first: the examples a guide shows are the files its commands check.
- A block that cannot run here carries `<!-- not run: why -->` right before it; the
  guide says why in the comment, and the test insists on a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(
    r"(?P<before>(?:<!--[^\n]*-->\n)?)```(?P<lang>[A-Za-z0-9_-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$",
    re.S | re.M,
)
NOT_RUN = re.compile(r"<!-- not run: (?P<why>.+?) -->")
EXPECT = re.compile(r"<!-- expect exit (?P<code>[0-9]+) -->")
FILE = re.compile(r"#\s*file:\s*(?P<path>\S+)")


@dataclass(frozen=True)
class Block:
    guide: str
    line: int
    lang: str
    body: str
    skipped_because: str | None = None
    expect_exit: int = 0

    @property
    def file(self) -> str | None:
        first = self.body.split("\n", 1)[0]
        match = FILE.fullmatch(first.strip())
        return match["path"] if match else None

    @property
    def where(self) -> str:
        return f"{self.guide}:{self.line}"


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        before = match["before"]
        skipped = NOT_RUN.search(before)
        expect = EXPECT.search(before)
        found.append(
            Block(
                guide=path.name,
                line=text.count("\n", 0, match.start("lang")) + 1,
                lang=match["lang"],
                body=match["body"],
                skipped_because=skipped["why"].strip() if skipped else None,
                expect_exit=int(expect["code"]) if expect else 0,
            )
        )
    return found


LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")


def relative_links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every link that is not a URL or an anchor on the same page."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for match in LINK.finditer(line):
            target = match["target"]
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            found.append((number, target))
    return found
