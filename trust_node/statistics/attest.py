"""A key holder's decryption duty for a statistics round.

Decrypt the summed vector with this node's CKKS secret key, set every suppressed cell to
zero (``open_models.benchmark_values.mask_suppressed``: a deterministic function of the
decrypted noisy sums and the public round terms), then sign. The envelope has exactly the
shape of ``governance.attestation.attest`` (same kind, same payload fields, same decimal
rounding), so the coordinator's ``collect_matching`` and the egress guard treat it like
any attestation; the only difference is that suppressed values never leave this node.
"""

from __future__ import annotations

from governance.attestation import (
    ATTESTATION_KIND,
    DEFAULT_DECIMALS,
    ciphertext_digest,
    format_values,
)
from governance.ckks import CkksKey, EncryptedVector, decrypt
from governance.envelope import Envelope, seal
from governance.identity import Identity
from open_models.benchmark_values import RoundTerms, mask_suppressed
from trust_node.statistics.errors import StatisticsError


def attest_statistics(
    identity: Identity, key: CkksKey, terms: RoundTerms, summed: EncryptedVector
) -> Envelope:
    if summed.length != terms.catalogue.vector_length:
        raise StatisticsError(
            f"round {terms.round_id}: summed vector has length {summed.length}, the round's "
            f"catalogue needs {terms.catalogue.vector_length}"
        )
    if summed.key_id != terms.key_id:
        raise StatisticsError(
            f"round {terms.round_id}: summed vector is under key {summed.key_id}, the round "
            f"under {terms.key_id}"
        )
    values = format_values(mask_suppressed(terms, decrypt(key, summed)), DEFAULT_DECIMALS)
    payload = {
        "subject_id": terms.subject_id,
        "round_id": terms.round_id,
        "key_id": summed.key_id,
        "ciphertext_digest": ciphertext_digest(summed),
        "decimals": DEFAULT_DECIMALS,
        "values": values,
    }
    return seal(identity, ATTESTATION_KIND, terms.round_id, payload)
