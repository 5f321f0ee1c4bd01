from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EncryptedVectorMsg(_message.Message):
    __slots__ = ("key_id", "length", "chunks")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    length: int
    chunks: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, key_id: _Optional[str] = ..., length: _Optional[int] = ..., chunks: _Optional[_Iterable[bytes]] = ...) -> None: ...

class Scalar(_message.Message):
    __slots__ = ("text", "integer", "flag")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INTEGER_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    text: str
    integer: int
    flag: bool
    def __init__(self, text: _Optional[str] = ..., integer: _Optional[int] = ..., flag: _Optional[bool] = ...) -> None: ...

class NodeInfo(_message.Message):
    __slots__ = ("node_id", "jurisdiction", "identity_public_key", "transport_public_key", "key_holder")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_HOLDER_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    jurisdiction: str
    identity_public_key: bytes
    transport_public_key: bytes
    key_holder: bool
    def __init__(self, node_id: _Optional[str] = ..., jurisdiction: _Optional[str] = ..., identity_public_key: _Optional[bytes] = ..., transport_public_key: _Optional[bytes] = ..., key_holder: _Optional[bool] = ...) -> None: ...

class PublicContextMsg(_message.Message):
    __slots__ = ("ceremony_id", "key_id", "period", "params_json", "public_context", "signature")
    CEREMONY_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    ceremony_id: str
    key_id: str
    period: str
    params_json: str
    public_context: bytes
    signature: bytes
    def __init__(self, ceremony_id: _Optional[str] = ..., key_id: _Optional[str] = ..., period: _Optional[str] = ..., params_json: _Optional[str] = ..., public_context: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class TrustInfoRequest(_message.Message):
    __slots__ = ("envelope", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Scalar
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Scalar, _Mapping]] = ...) -> None: ...
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    metadata: _containers.MessageMap[str, Scalar]
    def __init__(self, envelope: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, Scalar]] = ...) -> None: ...

class TrustInfo(_message.Message):
    __slots__ = ("coordinator_id", "coordinator_identity_key", "trust_policy_toml", "trust_policy_sig", "crl_pem", "nodes")
    COORDINATOR_ID_FIELD_NUMBER: _ClassVar[int]
    COORDINATOR_IDENTITY_KEY_FIELD_NUMBER: _ClassVar[int]
    TRUST_POLICY_TOML_FIELD_NUMBER: _ClassVar[int]
    TRUST_POLICY_SIG_FIELD_NUMBER: _ClassVar[int]
    CRL_PEM_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    coordinator_id: str
    coordinator_identity_key: bytes
    trust_policy_toml: bytes
    trust_policy_sig: bytes
    crl_pem: bytes
    nodes: _containers.RepeatedCompositeFieldContainer[NodeInfo]
    def __init__(self, coordinator_id: _Optional[str] = ..., coordinator_identity_key: _Optional[bytes] = ..., trust_policy_toml: _Optional[bytes] = ..., trust_policy_sig: _Optional[bytes] = ..., crl_pem: _Optional[bytes] = ..., nodes: _Optional[_Iterable[_Union[NodeInfo, _Mapping]]] = ...) -> None: ...

class UploadCeremonyRequest(_message.Message):
    __slots__ = ("envelope", "metadata", "public_context", "key_packages")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Scalar
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Scalar, _Mapping]] = ...) -> None: ...
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    KEY_PACKAGES_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    metadata: _containers.MessageMap[str, Scalar]
    public_context: PublicContextMsg
    key_packages: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, envelope: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, Scalar]] = ..., public_context: _Optional[_Union[PublicContextMsg, _Mapping]] = ..., key_packages: _Optional[_Iterable[bytes]] = ...) -> None: ...

class UploadCeremonyReply(_message.Message):
    __slots__ = ("key_id", "log_index")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    log_index: int
    def __init__(self, key_id: _Optional[str] = ..., log_index: _Optional[int] = ...) -> None: ...

class KeyMaterialRequest(_message.Message):
    __slots__ = ("envelope", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Scalar
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Scalar, _Mapping]] = ...) -> None: ...
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    metadata: _containers.MessageMap[str, Scalar]
    def __init__(self, envelope: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, Scalar]] = ...) -> None: ...

class KeyMaterial(_message.Message):
    __slots__ = ("public_context", "ceremony_identity_key", "key_package")
    PUBLIC_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    CEREMONY_IDENTITY_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_PACKAGE_FIELD_NUMBER: _ClassVar[int]
    public_context: PublicContextMsg
    ceremony_identity_key: bytes
    key_package: bytes
    def __init__(self, public_context: _Optional[_Union[PublicContextMsg, _Mapping]] = ..., ceremony_identity_key: _Optional[bytes] = ..., key_package: _Optional[bytes] = ...) -> None: ...

class RoundRequest(_message.Message):
    __slots__ = ("envelope", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Scalar
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Scalar, _Mapping]] = ...) -> None: ...
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    metadata: _containers.MessageMap[str, Scalar]
    def __init__(self, envelope: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, Scalar]] = ...) -> None: ...

class RoundInfo(_message.Message):
    __slots__ = ("round_id", "kind", "open", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ROUND_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    round_id: int
    kind: str
    open: bool
    parameters: _containers.ScalarMap[str, str]
    def __init__(self, round_id: _Optional[int] = ..., kind: _Optional[str] = ..., open: _Optional[bool] = ..., parameters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Submission(_message.Message):
    __slots__ = ("envelope", "metadata", "round_id", "kind", "vectors")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Scalar
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Scalar, _Mapping]] = ...) -> None: ...
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ROUND_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    metadata: _containers.MessageMap[str, Scalar]
    round_id: int
    kind: str
    vectors: _containers.RepeatedCompositeFieldContainer[EncryptedVectorMsg]
    def __init__(self, envelope: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, Scalar]] = ..., round_id: _Optional[int] = ..., kind: _Optional[str] = ..., vectors: _Optional[_Iterable[_Union[EncryptedVectorMsg, _Mapping]]] = ...) -> None: ...

class SubmissionReceipt(_message.Message):
    __slots__ = ("submission_id", "log_index", "digest")
    SUBMISSION_ID_FIELD_NUMBER: _ClassVar[int]
    LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    submission_id: int
    log_index: int
    digest: str
    def __init__(self, submission_id: _Optional[int] = ..., log_index: _Optional[int] = ..., digest: _Optional[str] = ...) -> None: ...

class DecryptionRequestsQuery(_message.Message):
    __slots__ = ("envelope", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Scalar
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Scalar, _Mapping]] = ...) -> None: ...
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    metadata: _containers.MessageMap[str, Scalar]
    def __init__(self, envelope: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, Scalar]] = ...) -> None: ...

class SignedSubmissionMsg(_message.Message):
    __slots__ = ("node_id", "ciphertext_digest", "envelope", "vector")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CIPHERTEXT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    ciphertext_digest: str
    envelope: bytes
    vector: EncryptedVectorMsg
    def __init__(self, node_id: _Optional[str] = ..., ciphertext_digest: _Optional[str] = ..., envelope: _Optional[bytes] = ..., vector: _Optional[_Union[EncryptedVectorMsg, _Mapping]] = ...) -> None: ...

class DecryptionRequestMsg(_message.Message):
    __slots__ = ("request_id", "round_id", "subject_id", "digest", "vector", "kind", "parameters", "submissions")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SUBMISSIONS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    round_id: int
    subject_id: str
    digest: str
    vector: EncryptedVectorMsg
    kind: str
    parameters: _containers.ScalarMap[str, str]
    submissions: _containers.RepeatedCompositeFieldContainer[SignedSubmissionMsg]
    def __init__(self, request_id: _Optional[str] = ..., round_id: _Optional[int] = ..., subject_id: _Optional[str] = ..., digest: _Optional[str] = ..., vector: _Optional[_Union[EncryptedVectorMsg, _Mapping]] = ..., kind: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ..., submissions: _Optional[_Iterable[_Union[SignedSubmissionMsg, _Mapping]]] = ...) -> None: ...

class DecryptionRequests(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[DecryptionRequestMsg]
    def __init__(self, requests: _Optional[_Iterable[_Union[DecryptionRequestMsg, _Mapping]]] = ...) -> None: ...

class AttestationSubmission(_message.Message):
    __slots__ = ("envelope", "metadata", "round_id", "attestation")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Scalar
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Scalar, _Mapping]] = ...) -> None: ...
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ROUND_ID_FIELD_NUMBER: _ClassVar[int]
    ATTESTATION_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    metadata: _containers.MessageMap[str, Scalar]
    round_id: int
    attestation: bytes
    def __init__(self, envelope: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, Scalar]] = ..., round_id: _Optional[int] = ..., attestation: _Optional[bytes] = ...) -> None: ...

class AttestationReceipt(_message.Message):
    __slots__ = ("log_index", "attestations_received")
    LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTESTATIONS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    log_index: int
    attestations_received: int
    def __init__(self, log_index: _Optional[int] = ..., attestations_received: _Optional[int] = ...) -> None: ...

class PublicationQuery(_message.Message):
    __slots__ = ("envelope", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Scalar
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Scalar, _Mapping]] = ...) -> None: ...
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    metadata: _containers.MessageMap[str, Scalar]
    def __init__(self, envelope: _Optional[bytes] = ..., metadata: _Optional[_Mapping[str, Scalar]] = ...) -> None: ...

class PublicationMsg(_message.Message):
    __slots__ = ("subject_id", "kind", "body_json", "log_index")
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    subject_id: str
    kind: str
    body_json: str
    log_index: int
    def __init__(self, subject_id: _Optional[str] = ..., kind: _Optional[str] = ..., body_json: _Optional[str] = ..., log_index: _Optional[int] = ...) -> None: ...
