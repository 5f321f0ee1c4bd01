"""The one place a received identifier becomes part of a path.

Identifiers that arrive from another party (a model id, a model version, a training run
name, a file name in a published model) are names, never paths. :func:`identifier`
checks one against :data:`IDENTIFIER`: one path component of ASCII letters, digits,
``_``, ``.`` and ``-``, starting with a letter or a digit (so never ``.``, ``..``, a
hidden file, an absolute path, a separator or NUL). :func:`within` joins such
components under a base directory, resolves the result (symbolic links included) and
refuses anything that does not stay inside the base. Every place a received
identifier becomes a path calls :func:`within`, so nothing is written outside the
directory the caller names (``GCDT_HOME`` on a node).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from kernel.errors import KernelError

#: The one pattern a received identifier must match to become a path component.
IDENTIFIER: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z")


class UnsafePathError(KernelError, ValueError):
    """An identifier is not a safe path component, or a path escapes its base."""


def identifier(value: object, what: str = "identifier") -> str:
    """``value`` if it is a ``str`` matching :data:`IDENTIFIER`; else :class:`UnsafePathError`.

    The error names ``what`` and never repeats the value (it came from another party).
    """
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise UnsafePathError(f"{what} is not a safe identifier (pattern {IDENTIFIER.pattern})")
    return value


def within(base: Path, *parts: object) -> Path:
    """``base / part / ...`` with each part an :func:`identifier`, resolved inside ``base``.

    Refuses a part that is not an identifier and a result that, once resolved (symbolic
    links followed), is not ``base`` itself or below it.
    """
    root = Path(base).resolve()
    path = root
    for part in parts:
        path = path / identifier(part, "path component")
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise UnsafePathError(f"path escapes {root}")
    return resolved
