"""A key holder's decrypt-and-attest duty, for every kind of aggregate (see :mod:`.duties`)."""

from trust_node.attestation.duties import Duty, attest_sum, check_request
from trust_node.attestation.verify import DecryptionLedger, RefusedSumError, verify_sum
from trust_node.attestation.watch import (
    Attested,
    KeyHolder,
    attest_pending,
    attest_subject,
    key_holder,
    watch,
)

__all__ = [
    "Attested",
    "DecryptionLedger",
    "Duty",
    "KeyHolder",
    "RefusedSumError",
    "attest_pending",
    "attest_subject",
    "attest_sum",
    "check_request",
    "key_holder",
    "verify_sum",
    "watch",
]
