"""What every ``gcdt-coordinator`` verb shares: the kit's runner for the coordinator's
errors, and the coordinator's composition root resolved from the common options."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from coordinator.context import CoordinatorContext
from coordinator.federation.errors import FederationError
from coordinator.portal.errors import PortalError
from coordinator.store import CoordinatorError
from governance.errors import GovernanceError
from kernel import cli as kit

#: Runs a verb; the coordinator's own errors (and a refused signed file or key) are the
#: operator's to fix, so they end the command with a message, never a trace.
run = kit.Runner(CoordinatorError, FederationError, PortalError, GovernanceError)


def coordinator(
    home: Path | None, database_url: str | None = None, *, create: bool = False
) -> CoordinatorContext:
    """The coordinator named by the common options (``create``: make ``GCDT_HOME``)."""
    return CoordinatorContext(kit.settings(home, database_url, create=create))


def redacted(url: str) -> str:
    """A database URL fit to print: the password masked."""
    return make_url(url).render_as_string(hide_password=True)
