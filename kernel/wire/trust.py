"""Names of the gRPC trust protocol (``protos/trust.proto``) that both ends must agree on.

The generated ``*_pb2`` code fixes the message shapes; what it cannot fix is what a node's
egress guard signs for each RPC and what the coordinator checks the signature against
(the method name and outbound kind inside the envelope), nor the names of the signed
metadata fields and round kinds. Those live here, once, and each side's serde module
(``trust_node.transport.serde``, ``coordinator.transport.serde``) imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from kernel.wire.flower import UPDATE_METHOD

#: The gRPC service path every RPC is called under.
SERVICE: Final = "/gcdt.trust.v1.TrustCoordinator/"

#: Outbound kinds the egress guard signs (``governance.policy.models.OutboundKind``).
METADATA: Final = "metadata"
ENROLMENT: Final = "enrolment"
ATTESTATION: Final = "attestation"
CIPHERTEXT_UPDATE: Final = "ciphertext_update"
CIPHERTEXT_STATISTICS: Final = "ciphertext_statistics"

#: RPC -> (method name in the signed envelope, outbound kind the node's guard used).
#: ``Submit`` depends on the round kind: see :func:`submission_outbound_kind`.
METHODS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "GetTrustInfo": ("get_trust_info", METADATA),
        "UploadCeremony": ("upload_ceremony", ENROLMENT),
        "GetKeyMaterial": ("get_key_material", METADATA),
        "GetRound": ("get_round", METADATA),
        "Submit": ("submit", CIPHERTEXT_STATISTICS),
        "FetchDecryptionRequests": ("fetch_decryption_requests", METADATA),
        "SubmitAttestation": ("submit_attestation", ATTESTATION),
        "GetPublication": ("get_publication", METADATA),
    }
)

#: Round kinds (the kind of aggregate a round sums). Both are decrypted and attested over
#: this protocol (``FetchDecryptionRequests`` / ``SubmitAttestation``); statistics are also
#: submitted over it, model updates arrive in Flower replies.
STATISTICS_ROUND: Final = "statistics"
TRAINING_ROUND: Final = "training"

#: Decryption request parameter of a statistics round: its ``RoundTerms`` as JSON.
TERMS: Final = "terms"

#: Signed metadata fields with a meaning on both ends.
ROUND_KIND: Final = "round_kind"
REQUEST_ID: Final = "request_id"
KEY_ID: Final = "key_id"
PERIOD: Final = "period"


def submission_outbound_kind(round_kind: str) -> str:
    """Statistics rounds carry ``ciphertext_statistics``; every other round kind updates."""
    return CIPHERTEXT_STATISTICS if round_kind == STATISTICS_ROUND else CIPHERTEXT_UPDATE


def submission_method(round_kind: str) -> str:
    """The method a submission's signed envelope names: statistics arrive by ``Submit``,
    model updates in Flower replies (``kernel.wire.flower.UPDATE_METHOD``).

    A key holder checks every submission listed in a decryption request against it.
    """
    return METHODS["Submit"][0] if round_kind == STATISTICS_ROUND else UPDATE_METHOD


#: Decryption-request parameter naming the key group whose sum a request carries
#: (key-group custody, ``governance.keygroups``).
KEY_GROUP_PARAMETER: Final = "key_group"
