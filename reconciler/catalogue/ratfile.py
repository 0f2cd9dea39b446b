"""Read one `rat-versions/<V>.yaml` for `generate` (temporary, until the config loader lands)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import McprodError
from reconciler.model import Override, Phase, RatVersion, SourceRef


def load_rat_version(repo: Path, version: str) -> RatVersion:
    relative = f"rat-versions/{version}.yaml"
    path = repo / relative
    if not path.is_file():
        raise McprodError(f"{relative}: no such file in {repo}; declare the RAT version first")
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    phases = tuple(
        Phase(name, str(p["dir"]), str(p["prefix"]))
        for name, p in (data.get("phases") or {}).items()
    )
    overrides = {
        name: Override(
            event_mode=o.get("event_mode"),
            outputs=tuple(o["outputs"]) if "outputs" in o else None,
            other_suffix=o.get("other_suffix"),
        )
        for name, o in (data.get("overrides") or {}).items()
    }
    return RatVersion(
        version=str(data["version"]),
        env=str(data["env"]),
        source=SourceRef(relative),
        phases=phases,
        internal_rate=tuple(data.get("internal_rate") or ()),
        overrides=overrides,
    )
