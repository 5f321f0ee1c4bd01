"""Errors of the accountability register (all are :class:`governance.errors.GovernanceError`).

::

    AccountabilityError          the register cannot be written or read
    ├── RegisterFormatError      an export that is not JSON lines of entry objects
    └── RegisterIntegrityError   an entry does not verify (``.index`` names the first)

A broken chain and an unreadable export are told apart because an auditor acts on them
differently: the first is evidence against the operator, the second a bad copy.
"""

from __future__ import annotations

from governance.errors import GovernanceError


class AccountabilityError(GovernanceError):
    """Base of the accountability register's errors."""


class RegisterFormatError(AccountabilityError):
    """The export is not JSON lines of entry objects (names the line)."""


class RegisterIntegrityError(AccountabilityError):
    """The register was altered: ``.index`` is the first entry that does not verify."""

    def __init__(self, what: str, index: int, reason: str) -> None:
        self.index = index
        super().__init__(f"{what}: entry {index} does not verify: {reason}")
