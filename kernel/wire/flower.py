"""Names of the Flower messages and records exchanged with the nodes' ClientApp.

The coordinator and the node never import each other; both import these names from here,
so the two ends of every Flower message cannot drift apart.

What travels, per round:

* ``train`` (coordinator -> sampled nodes): the current global model in plaintext
  (the models are open) as ArrayRecord ``global`` / array ``weights`` (flat float64),
  plus ConfigRecord ``round`` (run, round, key id, model id, clip norm).
* reply: ConfigRecord ``update`` with ONLY the CKKS ciphertext bytes of the vector
  ``[n * clipped_delta..., n]`` (the weight ``n`` rides encrypted in the last slot, so
  the coordinator never sees one node's record count; only the key holders' attested
  sum reveals the federation's total), its key id, length and the node id; or
  ConfigRecord ``refusal`` (budget or consent refused the round; the reason stays on
  the node); or an error reply whose reason is a :class:`ReasonCode`, never free text.
  The update's signed metadata also carries the node's training report as strings
  (``REPORT_FIELDS``: cumulative epsilon of its training account, its budget and delta,
  the codecarbon energy and CO2 of its local training). The egress guard releases
  them only where the node policy lists them in ``data_sovereignty.metadata_fields``
  (the default policy does), as decimal strings and only in ``model_update`` replies;
  they are strings because the guard never lets a float leave as metadata, and they
  are signed with the update, so the coordinator logs what the node itself stated.
* Sums are never sent over Flower: key holders pull decryption requests and push their
  signed attestations over the trust protocol (``kernel.wire.trust``).
* ``query.publish`` (coordinator -> every node): ConfigRecord ``published`` with the
  files of the published model; the node verifies the content hash and the attestation
  digest before it installs the model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from kernel.errors import KernelError

TRAIN: Final = "train"
PUBLISH: Final = "query.publish"

GLOBAL_ARRAYS: Final = "global"
WEIGHTS: Final = "weights"
ROUND_CONFIG: Final = "round"
UPDATE: Final = "update"
REFUSAL: Final = "refusal"
PUBLISHED: Final = "published"
ACK: Final = "ack"

# fields
RUN: Final = "run"
ROUND: Final = "round"
KEY_ID: Final = "key_id"
#: Key-group custody: the groups' key ids a round's update is shared under, comma-separated
#: in group order, and the fixed-point fractional bits of the shares.
KEY_GROUP_IDS: Final = "key_group_ids"
FIXED_POINT_BITS: Final = "fixed_point_bits"
MODEL_ID: Final = "model_id"
VERSION: Final = "version"
CLIP_NORM: Final = "clip_norm"
ROUNDS_REMAINING: Final = "rounds_remaining"
LENGTH: Final = "length"
NODE_ID: Final = "node_id"
REASON: Final = "reason"
FILE_NAMES: Final = "file_names"
FILE_PREFIX: Final = "file:"
CONTENT_HASH: Final = "content_hash"
LOG_INDEX: Final = "log_index"
# the sufficient-statistics family (open_models.linear): which release a round asks for,
# how many nodes share its noise, and the jurisdictions of the basis (comma-separated)
RELEASE: Final = "release"
LINEAR_STATISTICS: Final = "linear-statistics"
LINEAR_CALIBRATION: Final = "linear-calibration"
NOISE_SHARES: Final = "noise_shares"
JURISDICTIONS: Final = "jurisdictions"
#: The coordinator's exported transparency log (JSON bundle bytes, up to a signed tree head
#: covering the publication): what a node checks a published model against before installing.
LOG_BUNDLE: Final = "log_bundle"

# the node's training report, signed metadata of its update (decimal strings)
EPSILON_SPENT: Final = "epsilon_spent"
EPSILON_BUDGET: Final = "epsilon_budget"
DP_DELTA: Final = "dp_delta"
ENERGY_KWH: Final = "energy_kwh"
CO2_KG: Final = "co2_kg"
REPORT_FIELDS: Final = (EPSILON_SPENT, EPSILON_BUDGET, DP_DELTA, ENERGY_KWH, CO2_KG)


# --- what the node's egress guard released, framed for a Flower ConfigRecord ----------

#: The ConfigRecord field of a node reply holding the released frame (bytes).
EGRESS: Final = "egress"
#: Error code of every error reply a node sends (its ``reason`` is a :class:`ReasonCode`).
EGRESS_REFUSED_CODE: Final = 451


class ReasonCode(StrEnum):
    """The closed list of reasons an error reply from a node may carry.

    An error reply leaves the node with ``Error(code=EGRESS_REFUSED_CODE, reason=<code>)``
    and nothing else: never an exception's text, which could hold a record value. The
    node logs the full reason locally; the coordinator logs only a code it finds here
    (anything else, e.g. an error Flower itself made, as :attr:`UNKNOWN`).
    """

    EGRESS_REFUSED = "egress_refused"  # the egress guard refused the reply
    BUDGET_REFUSED = "budget_refused"  # the privacy ledger refused the round
    NO_CONSENT = "no_consent"  # no records with the scope's consent
    TRAINING_FAILED = "training_failed"  # local training raised
    INSTALL_REFUSED = "install_refused"  # a published model failed the node's checks
    BAD_REQUEST = "bad_request"  # the coordinator's message is malformed or unsafe
    INTERNAL_ERROR = "internal_error"  # anything else that went wrong on the node
    APP_REFUSED = "app_refused"  # the run's app bundle is not the trust's (kernel.wire.app_bundle)
    UNKNOWN = "unknown"  # coordinator side only: a reason not in this list


#: What a node may put in an error reply's ``reason`` (every code but ``unknown``).
REASON_CODES: Final = frozenset(c.value for c in ReasonCode if c is not ReasonCode.UNKNOWN)


def reason_code(reason: object) -> ReasonCode:
    """The code an error reply's ``reason`` names; :attr:`ReasonCode.UNKNOWN` if none."""
    return ReasonCode(reason) if reason in REASON_CODES else ReasonCode.UNKNOWN


#: Method names the egress guard signs for each Flower reply.
UPDATE_METHOD: Final = "model_update"
REFUSAL_METHOD: Final = "round_refused"
INSTALLED_METHOD: Final = "model_installed"


class FrameError(KernelError, ValueError):
    """A released frame that is not the documented JSON shape."""


@dataclass(frozen=True)
class ReleasedFrame:
    """What crosses Flower for one released message, in primitive types only.

    Why primitives: the kernel sits below the libraries that define envelopes and
    ciphertexts, so the frame carries their serialized forms (the envelope's JSON object,
    the ciphertexts' bytes, the attestations' JSON objects, the key packages' text) and
    each side turns them into domain objects with its own checks.
    """

    envelope: Mapping[str, Any]
    ciphertexts: tuple[bytes, ...] = ()
    attestations: tuple[Mapping[str, Any], ...] = ()
    key_packages: tuple[str, ...] = ()


def frame_to_bytes(frame: ReleasedFrame) -> bytes:
    """The JSON framing (ciphertexts hex-encoded) a node puts in its reply's ``EGRESS``."""
    body = {
        "envelope": dict(frame.envelope),
        "ciphertexts": [c.hex() for c in frame.ciphertexts],
        "attestations": [dict(a) for a in frame.attestations],
        "key_packages": list(frame.key_packages),
    }
    return json.dumps(body, sort_keys=True).encode("utf-8")


def frame_from_bytes(raw: object) -> ReleasedFrame:
    """Parse a reply's ``EGRESS`` field; :class:`FrameError` names what is wrong."""
    if not isinstance(raw, bytes):
        raise FrameError("reply carries no released frame (bytes)")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FrameError(f"released frame is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise FrameError("released frame is not a JSON object")
    envelope = body.get("envelope")
    if not isinstance(envelope, dict):
        raise FrameError("released frame carries no signed envelope")
    hexes = _list_of(body, "ciphertexts", str)
    try:
        ciphertexts = tuple(bytes.fromhex(h) for h in hexes)
    except ValueError as exc:
        raise FrameError("ciphertext is not hex") from exc
    return ReleasedFrame(
        envelope=envelope,
        ciphertexts=ciphertexts,
        attestations=tuple(_list_of(body, "attestations", dict)),
        key_packages=tuple(_list_of(body, "key_packages", str)),
    )


def _list_of(body: Mapping[str, Any], name: str, kind: type) -> list[Any]:
    values = body.get(name) or []
    if not isinstance(values, list) or not all(isinstance(v, kind) for v in values):
        raise FrameError(f"released frame field {name!r} must be a list of {kind.__name__}")
    return values
