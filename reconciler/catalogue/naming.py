"""Module names from macro paths (pure).

The legacy `make_production` rule: phase prefix + each sub-folder + the macro
stem, where every part is split on `_` and each piece gets its first letter
upper-cased, the rest kept as written. The `_` between pieces stays, so
`Ac228_scint.mac` becomes `Ac228_Scint`.
"""

from __future__ import annotations

from collections.abc import Sequence

MACRO_SUFFIX = ".mac"


def capitalise_part(part: str) -> str:
    return "_".join(piece[:1].upper() + piece[1:] for piece in part.split("_"))


def module_name(prefix: str, relative_parts: Sequence[str]) -> str:
    """`relative_parts`: the macro's path below the phase folder, file name last."""
    *folders, file_name = relative_parts
    stem = file_name[: -len(MACRO_SUFFIX)] if file_name.endswith(MACRO_SUFFIX) else file_name
    return prefix + "".join(capitalise_part(part) for part in (*folders, stem))
