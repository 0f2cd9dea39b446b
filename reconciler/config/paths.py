"""JSON paths of YAML nodes, in the two forms users see: `$.a[0].b` and `a[0].b`."""

from __future__ import annotations

import re
from typing import Any

JsonPath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) else f"[{key!r}]"


def json_path(path: JsonPath) -> str:
    """`$.modules[2].run_numbers[0]`, `$.rat_locations['6.18.7']`."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            rendered = _key(part)
            out += rendered if rendered.startswith("[") else f".{rendered}"
    return out


def human_path(path: JsonPath, data: Any = None) -> str:
    """The path as messages show it: `modules[2] (WaterBi214Run): template.radius`.

    A campaign entry is named by its module as well as its index, because that is
    how people find it in the file.
    """
    parts: list[str] = []
    current = ""
    node = data
    for depth, part in enumerate(path):
        if isinstance(part, int):
            current += f"[{part}]"
        else:
            rendered = _key(part)
            current += rendered if rendered.startswith("[") or not current else f".{rendered}"
        node = _child(node, part)
        if depth == 1 and path[0] == "modules" and isinstance(part, int):
            module = node.get("module") if isinstance(node, dict) else None
            if isinstance(module, str):
                current += f" ({module})"
            parts.append(current)
            current = ""
    if current:
        parts.append(current)
    return ": ".join(parts)


def _child(node: Any, part: str | int) -> Any:
    if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
        return node[part]
    if isinstance(part, str) and isinstance(node, dict):
        return node.get(part)
    return None
