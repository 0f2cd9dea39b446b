"""The return card: what a finished attempt says it produced, or why it could not.

The stage-out (`reconciler.job.stageout`, run on the worker) writes it as JSON; this
is the one reader, typed, used by the site monitor and by tests alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import McprodError
from reconciler.job.stageout import write_json_atomic


@dataclass(frozen=True)
class CardFile:
    name: str
    data_type: str | None
    """As the stage-out wrote it; None when the card does not say (inferred from the name)."""
    url: str
    size: int
    adler32: str
    guid: str | None = None
    """Written by the stage-out since the grid backends; older cards have none."""
    lfn: str | None = None
    """Where the file is registered in the DIRAC File Catalog, when the site has one."""


@dataclass(frozen=True)
class ReturnCard:
    """What a finished job says it produced (files) or why it could not (error)."""

    job_id: str | None
    attempt: int | None
    files: tuple[CardFile, ...]
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        card: dict[str, object] = {
            "job_id": self.job_id,
            "attempt": self.attempt,
            "files": [
                {k: v for k, v in vars(f).items() if not (k in ("guid", "lfn") and v is None)}
                for f in self.files
            ],
        }
        if self.error is not None:
            card["error"] = self.error
        return card


class ReturnCardError(McprodError):
    """The return card is missing or not what the stage-out writes."""


def write_return_card(path: Path, card: ReturnCard) -> None:
    write_json_atomic(str(path), card.as_json())


def read_return_card(path: Path) -> ReturnCard:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReturnCardError(f"no return card at {path}") from None
    except (OSError, ValueError) as error:
        raise ReturnCardError(f"unreadable return card {path}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ReturnCardError(f"unreadable return card {path}: no 'files' list")
    files: list[CardFile] = []
    for index, entry in enumerate(data["files"]):
        try:
            files.append(
                CardFile(
                    name=str(entry["name"]),
                    data_type=_optional_str(entry.get("data_type")),
                    url=str(entry["url"]),
                    size=int(entry["size"]),
                    adler32=str(entry["adler32"]),
                    guid=_optional_str(entry.get("guid")),
                    lfn=_optional_str(entry.get("lfn")),
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ReturnCardError(
                f"unreadable return card {path}: files[{index}]: missing or bad {error}"
            ) from None
    attempt = data.get("attempt")
    why = data.get("error")
    return ReturnCard(
        job_id=str(data["job_id"]) if data.get("job_id") is not None else None,
        attempt=attempt if isinstance(attempt, int) else None,
        files=tuple(files),
        error=str(why) if why is not None else None,
    )


def _optional_str(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None
