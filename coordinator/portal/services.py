"""What the transparency API and portal read, and the only place they read it.

Routes stay thin: each calls one method here. Everything returned is already public: the
registry's published models (card, hash, files), the published benchmarks, the enrolled
nodes' ids, jurisdictions, roles and *public* keys, round summaries and privacy spend
derived from the transparency log, and the log itself with proofs. The log is opened with
a public-only signer (the operator's public key and id files), so the portal process never
loads the coordinator's private key and cannot append or sign.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from coordinator.aggregation import BENCHMARK
from coordinator.federation.errors import RegistryError
from coordinator.portal.errors import BadRequestError, NotPublishedError, PortalError
from coordinator.registry import ModelRegistry, RegisteredModel
from coordinator.store.repository import CoordinatorStore
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.translog import (
    ConsistencyProof,
    InclusionProof,
    LogEntry,
    SignedTreeHead,
    TranslogError,
    TransparencyLog,
    merkle,
)
from governance.translog.tiles import TileError, parse_tile_path
from open_models.benchmark_values import cbam_default_direct
from open_models.errors import OpenModelsError

EXPORT_FORMAT = "gcdt-portal-export/1"
#: Files of a published model directory the API serves (``open_models.published``).
MODEL_FILES = ("model.json", "weights.safetensors")
#: Companion files a publisher may add beside them (the published evaluation set).
COMPANION_SUFFIXES = (".json",)
MAX_PAGE = 500


class _PublicSigner:
    """Stands in for the operator identity: id and public key only, cannot sign."""

    def __init__(self, party_id: str, public_key: bytes) -> None:
        self.party_id = party_id
        self.public_key = public_key

    def sign(self, data: bytes) -> bytes:
        raise PortalError("the portal is read-only: it holds no signing key")


def public_log(engine: Engine, home: Path) -> TransparencyLog:
    """The coordinator's log, opened from ``identity/identity.{id,pub}`` only."""
    identity_dir = HomeLayout(home).identity_dir
    try:
        party_id = (identity_dir / "identity.id").read_text().strip()
        public_key = bytes.fromhex((identity_dir / "identity.pub").read_text().strip())
    except (OSError, ValueError) as exc:
        raise PortalError(
            f"{identity_dir}: no coordinator identity (identity.id, identity.pub); "
            f"run gcdt-coordinator init first ({exc})"
        ) from exc
    return TransparencyLog(engine, cast(Identity, _PublicSigner(party_id, public_key)))


@dataclass(frozen=True)
class ModelSummary:
    model_id: str
    version: str
    content_hash: str
    log_index: int


@dataclass
class RoundSummary:
    """One round as the log tells it (training: per run and round; statistics: per id)."""

    kind: str  # "training" | "statistics"
    key: str  # "<run>/<round>" or "<round_id>"
    status: str
    nodes: list[str] = field(default_factory=list)
    epsilon: float | None = None  # charged to each listed node (statistics terms)
    delta: float | None = None
    log_indices: list[int] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class PrivacySpend:
    """Epsilon charged per node, in log order (statistics rounds: the round terms' epsilon
    for each node whose submission was accepted; training: what the model cards state)."""

    statistics: dict[str, list[tuple[str, float]]]  # node -> [(round key, cumulative eps)]
    training: list[dict[str, Any]]  # one row per (model, node) from the cards


class TransparencyService:
    def __init__(self, engine: Engine, log: TransparencyLog) -> None:
        self.engine = engine
        self.log = log
        self.registry = ModelRegistry(engine)
        self.store = CoordinatorStore(engine)

    # --- models ------------------------------------------------------------------------

    def models(self) -> list[ModelSummary]:
        return [ModelSummary(*row) for row in self.registry.list()]

    def model(self, model_id: str, version: str | None = None) -> RegisteredModel:
        try:
            return self.registry.get(model_id, version)
        except RegistryError as exc:
            raise NotPublishedError(str(exc)) from exc

    def model_file(self, model_id: str, version: str, name: str) -> bytes:
        model = self.model(model_id, version)
        if name not in model.files or not (
            name in MODEL_FILES or name.endswith(COMPANION_SUFFIXES)
        ):
            raise NotPublishedError(f"model {model_id} {version} has no published file {name!r}")
        return model.files[name]

    # --- benchmarks --------------------------------------------------------------------

    def benchmarks(self) -> list[dict[str, Any]]:
        try:
            published = self.store.publications(BENCHMARK)
        except SQLAlchemyError as exc:
            raise PortalError(f"cannot read published benchmarks: {exc}") from exc
        out = []
        for p in sorted(published, key=lambda p: int(p.body.get("round_id", -1))):
            payload = dict(p.body)
            payload["cells"] = [_with_cbam(c) for c in payload.get("cells") or []]
            out.append(
                {
                    **payload,
                    "log_index": int(p.log_index),
                    "published_at": p.published_at.isoformat(),
                }
            )
        return out

    def benchmark(self, benchmark_id: str) -> dict[str, Any]:
        for item in self.benchmarks():
            if item.get("benchmark_id") == benchmark_id:
                return item
        raise NotPublishedError(f"no published benchmark {benchmark_id!r}")

    # --- nodes -------------------------------------------------------------------------

    def nodes(self) -> list[dict[str, Any]]:
        """Enrolled nodes: id, jurisdiction, public keys, role and status (all of which the
        log's ``enrolment``/``revocation`` entries already publish); nothing else."""
        return [
            {
                "node_id": n.node_id,
                "jurisdiction": n.jurisdiction,
                "identity_public_key": n.identity_public_key.hex(),
                "transport_public_key": n.transport_public_key.hex(),
                "key_holder": n.key_holder,
                "status": n.status,
            }
            for n in self.store.nodes(status=None)
        ]

    # --- rounds and privacy ------------------------------------------------------------

    def rounds(self) -> list[RoundSummary]:
        found: dict[tuple[str, str], RoundSummary] = {}
        published_rounds: dict[int, str] = {}
        stats_submitters: dict[int, list[str]] = defaultdict(list)
        for entry in self.log.iter_entries():
            payload = entry.payload if isinstance(entry.payload, dict) else {}
            if entry.kind == "round":
                _fold_round(found, entry, payload)
            elif entry.kind == "submission_digest" and payload.get("kind") == "statistics":
                stats_submitters[int(payload.get("round_id", -1))].append(
                    str(payload.get("node_id"))
                )
            elif entry.kind == "publication" and "benchmark_id" in payload:
                published_rounds[int(payload.get("round_id", -1))] = str(payload["benchmark_id"])
        for (kind, key), summary in found.items():
            if kind != "statistics":
                continue
            round_id = int(key)
            summary.nodes = sorted(set(stats_submitters.get(round_id, [])))
            if round_id in published_rounds:
                summary.status = "published"
                summary.detail["benchmark_id"] = published_rounds[round_id]
        return list(found.values())

    def privacy_spend(self) -> PrivacySpend:
        stats: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for summary in self.rounds():
            if summary.kind != "statistics" or summary.epsilon is None:
                continue
            for node in summary.nodes:
                before = stats[node][-1][1] if stats[node] else 0.0
                stats[node].append((summary.key, before + summary.epsilon))
        training = []
        for m in self.models():
            card = self.model(m.model_id, m.version).card
            nodes = (card.get("federation") or {}).get("nodes") or []
            for n in nodes if isinstance(nodes, list) else []:
                if isinstance(n, dict):
                    training.append(
                        {
                            "model_id": m.model_id,
                            "version": m.version,
                            "node_id": n.get("node_id"),
                            "epsilon_spent": n.get("epsilon_spent"),
                            "epsilon_budget": n.get("epsilon_budget"),
                            "delta": n.get("delta"),
                        }
                    )
        return PrivacySpend(dict(stats), training)

    # --- the log -----------------------------------------------------------------------

    def size(self) -> int:
        return self.log.size()

    def entries(self, start: int = 0, limit: int = 100) -> list[LogEntry]:
        if start < 0 or not 1 <= limit <= MAX_PAGE:
            raise BadRequestError(f"start must be >= 0 and limit in 1..{MAX_PAGE}")
        return list(self.log.iter_entries(start, start + limit))

    def entry(self, index: int) -> LogEntry:
        try:
            return self.log.entry(index)
        except TranslogError as exc:
            raise NotPublishedError(str(exc)) from exc

    def tree_heads(self) -> list[SignedTreeHead]:
        return self.log.tree_heads()

    def latest_tree_head(self) -> SignedTreeHead | None:
        return self.log.latest_tree_head()

    def _signed_size(self, tree_size: int | None) -> int:
        head = self.latest_tree_head()
        if tree_size is not None:
            return tree_size
        if head is None:
            raise BadRequestError("the log has no signed tree head yet")
        return head.tree_size

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> InclusionProof:
        size = self._signed_size(tree_size)
        if not 0 <= index < size:
            raise BadRequestError(f"entry {index} is not in a tree of size {size}")
        try:
            return self.log.inclusion_proof(index, size)
        except merkle.MerkleError as exc:
            raise BadRequestError(str(exc)) from exc

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        size = self._signed_size(new_size)
        try:
            return self.log.consistency_proof(old_size, size)
        except merkle.MerkleError as exc:
            raise BadRequestError(str(exc)) from exc

    # --- C2SP views of the log (tlog-tiles, tlog-proof) ---------------------------------

    def checkpoint(self) -> str:
        """The latest checkpoint as a signed note, with every witness cosignature collected."""
        head = self.latest_tree_head()
        if head is None:
            raise NotPublishedError("the log has no signed checkpoint yet")
        return self.log.cosigned_note(head)

    def tile(self, path: str) -> tuple[bytes, bool]:
        """A tlog-tiles resource under ``tile/``, and whether it is a full (immutable) one."""
        try:
            tile = parse_tile_path(path)
            return self.log.tile(tile), not tile.partial
        except TileError as exc:
            raise NotPublishedError(str(exc)) from exc

    def tlog_proof(self, index: int) -> str:
        """A ``.tlog-proof`` of entry ``index`` under the latest checkpoint."""
        try:
            return str(self.log.tlog_proof(index))
        except TranslogError as exc:
            raise NotPublishedError(str(exc)) from exc

    def bundle(self) -> dict[str, Any]:
        """The offline-verifiable bundle over the signed tree heads (nothing is signed here)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = self.log.export_bundle(Path(tmp) / "bundle.json", sign_head=False)
            return cast(dict[str, Any], json.loads(path.read_text("utf-8")))

    def export(self) -> bytes:
        """One zip with everything an auditor verifies offline (``gcdt-audit ... --export``)."""
        buffer = io.BytesIO()
        manifest: dict[str, Any] = {"format": EXPORT_FORMAT, "models": [], "benchmarks": []}
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("log-bundle.json", json.dumps(self.bundle(), indent=1, sort_keys=True))
            zf.writestr("nodes.json", json.dumps(self.nodes(), indent=1, sort_keys=True))
            for m in self.models():
                model = self.model(m.model_id, m.version)
                base = f"models/{m.model_id}/{m.version}"
                for name, data in sorted(model.files.items()):
                    zf.writestr(f"{base}/{name}", data)
                manifest["models"].append(
                    {
                        "model_id": m.model_id,
                        "version": m.version,
                        "path": base,
                        "content_hash": m.content_hash,
                        "log_index": m.log_index,
                    }
                )
            for b in self.benchmarks():
                path = f"benchmarks/{b['benchmark_id']}.json"
                zf.writestr(path, json.dumps(b, indent=1, sort_keys=True))
                manifest["benchmarks"].append({"benchmark_id": b["benchmark_id"], "path": path})
            zf.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
        return buffer.getvalue()


def _fold_round(
    found: dict[tuple[str, str], RoundSummary], entry: LogEntry, payload: dict[str, Any]
) -> None:
    if payload.get("kind") == "statistics":
        terms = payload.get("terms") if isinstance(payload.get("terms"), dict) else None
        round_id = terms.get("round_id") if terms else payload.get("round_id")
        key = ("statistics", str(round_id))
        summary = found.setdefault(key, RoundSummary("statistics", key[1], "open"))
        if terms:
            summary.epsilon = _float(terms.get("epsilon"))
            summary.delta = _float(terms.get("delta"))
            summary.detail["expected_nodes"] = payload.get("expected_nodes")
        if payload.get("event") == "summed":
            summary.status = "summed"
            summary.detail["ciphertext_digest"] = payload.get("digest")
    elif "run" in payload and "round" in payload:
        key = ("training", f"{payload['run']}/{payload['round']}")
        summary = found.setdefault(key, RoundSummary("training", key[1], "started"))
        event = str(payload.get("event", ""))
        summary.status = event.removeprefix("round_") or summary.status
        if event == "round_accepted":
            summary.nodes = sorted(str(n) for n in payload.get("contributors") or [])
            summary.detail["attested_by"] = payload.get("attested_by")
            summary.detail["aggregate_sha256"] = payload.get("aggregate_sha256")
        elif event == "round_started":
            summary.detail["nodes_asked"] = payload.get("nodes_asked")
            summary.detail["quorum"] = payload.get("quorum")
        elif "reason" in payload:
            summary.detail["reason"] = payload.get("reason")
    else:
        return
    summary.log_indices.append(entry.index)


def _with_cbam(cell: dict[str, Any]) -> dict[str, Any]:
    """Set the CBAM default beside a published cell (the publisher's value if it has one)."""
    if cell.get("suppressed") or "cbam_default_direct_tco2e_per_t" in cell:
        return cell
    try:
        value = cbam_default_direct(str(cell["product"]), int(cell["year"]))
    except (KeyError, ValueError, OpenModelsError):
        value = None
    return {**cell, "cbam_default_direct_tco2e_per_t": value}


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
