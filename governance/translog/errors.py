"""Transparency-log errors.

::

    GovernanceError
    └── TranslogError                 anything the log refuses or cannot do
        ├── EntryError                a kind or payload that cannot become an entry
        ├── LogStateError             the tables are missing or not in the shape we wrote
        ├── AppendConflictError       concurrent writers kept colliding; nothing appended
        └── BundleFormatError         an exported bundle cannot even be parsed
"""

from __future__ import annotations

from governance.errors import GovernanceError


class TranslogError(GovernanceError):
    """Base of transparency-log errors."""


class EntryError(TranslogError, ValueError):
    """The entry kind or payload is not acceptable (named in the message)."""


class LogStateError(TranslogError):
    """The log's tables are missing (run ``governance.tables.migrate``) or inconsistent."""


class AppendConflictError(TranslogError):
    """An append lost the race for the next index too many times in a row."""


class BundleFormatError(TranslogError, ValueError):
    """A bundle is not JSON of the documented shape; the field path is in the message."""
