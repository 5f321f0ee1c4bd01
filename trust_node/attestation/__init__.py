"""A key holder's decrypt-and-attest duty, for every kind of aggregate (see :mod:`.duties`)."""

from trust_node.attestation.duties import Duty, attest_sum, check_request
from trust_node.attestation.watch import Attested, attest_pending, attest_subject, watch

__all__ = [
    "Attested",
    "Duty",
    "attest_pending",
    "attest_subject",
    "attest_sum",
    "check_request",
    "watch",
]
