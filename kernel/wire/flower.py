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
  ConfigRecord ``refusal`` (budget or consent refused the round; the reason is a
  policy metadata field).
  The update's signed metadata also carries the node's training report as strings
  (``REPORT_FIELDS``: cumulative epsilon of its training account, its budget and delta,
  the codecarbon energy and CO2 of its local training). The egress guard releases
  them only where the node policy lists them in ``data_sovereignty.metadata_fields``
  (the default policy does); they are strings because the guard never lets a float
  leave as metadata, and they are signed with the update, so the coordinator logs
  what the node itself stated.
* ``query.attest`` (coordinator -> key holders): ConfigRecord ``sum`` with the summed
  ciphertext; reply: ConfigRecord ``attestation`` with the signed envelope.
* ``query.publish`` (coordinator -> every node): ConfigRecord ``published`` with the
  files of the published model; the node verifies the content hash and the attestation
  digest before it installs the model.
"""

from __future__ import annotations

from typing import Final

TRAIN: Final = "train"
ATTEST: Final = "query.attest"
PUBLISH: Final = "query.publish"

GLOBAL_ARRAYS: Final = "global"
WEIGHTS: Final = "weights"
ROUND_CONFIG: Final = "round"
UPDATE: Final = "update"
REFUSAL: Final = "refusal"
SUM: Final = "sum"
ATTESTATION: Final = "attestation"
PUBLISHED: Final = "published"
ACK: Final = "ack"

# fields
RUN: Final = "run"
ROUND: Final = "round"
KEY_ID: Final = "key_id"
MODEL_ID: Final = "model_id"
VERSION: Final = "version"
CLIP_NORM: Final = "clip_norm"
ROUNDS_REMAINING: Final = "rounds_remaining"
CIPHERTEXT: Final = "ciphertext"
LENGTH: Final = "length"
NODE_ID: Final = "node_id"
REASON: Final = "reason"
SUBJECT: Final = "subject"
DIGEST: Final = "digest"
ENVELOPE: Final = "envelope"
FILE_NAMES: Final = "file_names"
FILE_PREFIX: Final = "file:"
CONTENT_HASH: Final = "content_hash"
LOG_INDEX: Final = "log_index"

# the node's training report, signed metadata of its update (decimal strings)
EPSILON_SPENT: Final = "epsilon_spent"
EPSILON_BUDGET: Final = "epsilon_budget"
DP_DELTA: Final = "dp_delta"
ENERGY_KWH: Final = "energy_kwh"
CO2_KG: Final = "co2_kg"
REPORT_FIELDS: Final = (EPSILON_SPENT, EPSILON_BUDGET, DP_DELTA, ENERGY_KWH, CO2_KG)
