"""``gcdt-audit verify-model`` and ``gcdt-audit reproduce-eval``: check a published model.

Input is what the coordinator's portal publishes: its export (``/api/export``, a zip or the
directory it unpacks to: ``log-bundle.json``, ``manifest.json``, ``models/<id>/<version>/``)
or the portal's URL, from which the export is downloaded. Everything else is offline.

``verify-model`` checks, each failure naming what failed:

1. the log bundle verifies (``governance.translog.verify_bundle``);
2. the model files load and hash to the content hash ``model.json`` records
   (``open_models.published``: any changed weight byte or card field changes it);
3. exactly that content hash is in a ``publication`` entry for this model id and version,
   included under the latest signed tree head (RFC 9162 inclusion proof recomputed);
4. every round the log accepted for the model's run has ``t`` ``attestation`` entries by
   distinct key holders enrolled in the log before the publication (``enrolment`` with
   ``key_holder``, minus ``revocation``), matching the round's ``attested_by``; where the
   publication carries the signed envelopes (payload ``attestations``: round -> envelopes),
   each signature is verified against the enrolled key, the signed values agree, and each
   envelope's SHA-256 is the one logged. Without envelopes the signatures cannot be
   re-checked: that is reported as *unchecked* (a failure with ``--strict``);
5. the model card's claims match the log: its rounds (round, status, contributors,
   aggregate digest, log index), its round count, its nodes (exactly the contributors,
   each with the jurisdiction it enrolled with), its privacy spend (within budget, present
   for every node, equal to any spend the log records), its content hash.

``reproduce-eval`` re-runs the evaluation the card states, on the evaluation set published
with the model (a synthetic set, generated from a seed, never node data), and compares every
published number with the recomputed one.

**Evaluation-set format** (what a publisher writes beside ``model.json``; the card pins it):
``card["evaluation"]["dataset"] = {"file": "evaluation_set.json", "sha256": <hex>, "seed",
"generator", "description", "method"}`` and the file is :func:`evaluation_set_bytes`.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final

import numpy as np
import pandas as pd
import typer

from governance import merkle
from governance.attestation import AttestationError, read_attestation
from governance.envelope import Envelope
from governance.errors import EnvelopeError
from governance.translog import BundleFormatError, LogEntry, verify_bundle
from governance.translog.records import canonical

EVALUATION_SET_FORMAT: Final = "gcdt-evaluation-set/1"
EVALUATION_SET_FILE: Final = "evaluation_set.json"
#: Published evaluation numbers are floats computed by the same code: they must agree to
#: float round-off (JSON keeps 17 significant digits), so the tolerance is tight.
EVAL_RTOL: Final = 1e-9
EVAL_ATOL: Final = 1e-12


class ModelAuditInputError(Exception):
    """The export, portal or model files cannot be read at all (exit code 2)."""


# --- the published evaluation set ---------------------------------------------------------


def evaluation_set_bytes(
    records: pd.DataFrame, truth: pd.DataFrame, *, seed: int | None, generator: str
) -> bytes:
    """Canonical bytes of a synthetic evaluation set (records + the generator's truth)."""

    def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
        out = []
        for row in frame.to_dict(orient="records"):
            out.append({str(k): _plain(v) for k, v in row.items()})
        return out

    return canonical(
        {
            "format": EVALUATION_SET_FORMAT,
            "seed": seed,
            "generator": generator,
            "records": rows(records.reset_index(drop=True)),
            "truth": rows(truth[["record_id", "true_direct_tco2e"]].reset_index(drop=True)),
        },
        "evaluation set",
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def read_evaluation_set(data: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    from open_models.contract import FLOAT_COLUMNS

    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelAuditInputError(f"evaluation set is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != EVALUATION_SET_FORMAT:
        raise ModelAuditInputError(f"evaluation set format is not {EVALUATION_SET_FORMAT!r}")
    records = pd.DataFrame.from_records(doc.get("records") or [])
    truth = pd.DataFrame.from_records(doc.get("truth") or [])
    for column in FLOAT_COLUMNS:
        if column in records:
            records[column] = pd.to_numeric(records[column], errors="coerce").astype(float)
    if "true_direct_tco2e" in truth:
        truth["true_direct_tco2e"] = truth["true_direct_tco2e"].astype(float)
    return records, truth


# --- reports -------------------------------------------------------------------------------


@dataclass
class ModelReport:
    model_id: str
    version: str | None = None
    content_hash: str | None = None
    entry_index: int | None = None
    t: int | None = None
    rounds: list[int] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    def fail(self, code: str, where: str, message: str) -> None:
        self.problems.append({"code": code, "where": where, "message": message})

    def ok(self, strict: bool = False) -> bool:
        return not self.problems and not (strict and self.unchecked)

    def to_json(self, strict: bool = False) -> dict[str, Any]:
        return {
            "ok": self.ok(strict),
            "model_id": self.model_id,
            "version": self.version,
            "content_hash": self.content_hash,
            "entry_index": self.entry_index,
            "t": self.t,
            "rounds": self.rounds,
            "signers": self.signers,
            "problems": self.problems,
            "unchecked": self.unchecked,
        }


# --- reading the export --------------------------------------------------------------------


@contextmanager
def open_export(source: Path | None, portal: str | None) -> Iterator[Path]:
    """A directory holding the export, from a zip, a directory, or a portal URL."""
    if (source is None) == (portal is None):
        raise ModelAuditInputError("give exactly one of --export PATH or --portal URL")
    with tempfile.TemporaryDirectory(prefix="gcdt-audit-") as tmp:
        if portal is not None:
            url = portal.rstrip("/") + "/api/export"
            if not url.startswith(("http://", "https://")):
                raise ModelAuditInputError(f"--portal must be an http(s) URL, got {portal!r}")
            try:
                with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
                    data = response.read()
            except OSError as exc:
                raise ModelAuditInputError(f"cannot download {url}: {exc}") from exc
            _unzip(data, Path(tmp), url)
            yield Path(tmp)
        else:
            assert source is not None
            if source.is_dir():
                yield source
            elif source.is_file():
                _unzip(source.read_bytes(), Path(tmp), str(source))
                yield Path(tmp)
            else:
                raise ModelAuditInputError(f"{source}: no such export (zip or directory)")


def _unzip(data: bytes, target: Path, where: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                path = (target / name).resolve()
                if not path.is_relative_to(target.resolve()):
                    raise ModelAuditInputError(f"{where}: member {name!r} escapes the export")
            zf.extractall(target)  # every member checked above
    except zipfile.BadZipFile as exc:
        raise ModelAuditInputError(f"{where}: not a zip export: {exc}") from exc


def load_export(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(log bundle, manifest) of an export directory."""
    out = []
    for name in ("log-bundle.json", "manifest.json"):
        path = directory / name
        try:
            value = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelAuditInputError(f"{path}: unreadable: {exc}") from exc
        if not isinstance(value, dict):
            raise ModelAuditInputError(f"{path}: must be a JSON object")
        out.append(value)
    return out[0], out[1]


def model_directory(directory: Path, manifest: Mapping[str, Any], model_id: str,
                    version: str | None) -> tuple[Path, str]:
    found = [
        m for m in manifest.get("models") or []
        if m.get("model_id") == model_id and (version is None or m.get("version") == version)
    ]
    if not found:
        what = f"{model_id}" + (f" version {version}" if version else "")
        raise ModelAuditInputError(f"the export has no model {what}")
    chosen = found[-1]
    path = (directory / str(chosen["path"])).resolve()
    if not path.is_relative_to(directory.resolve()) or not path.is_dir():
        raise ModelAuditInputError(f"the export's path for {model_id} is not a directory in it")
    return path, str(chosen["version"])


# --- verify-model --------------------------------------------------------------------------


def _entries(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = bundle.get("entries")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _payload(entry: Mapping[str, Any]) -> dict[str, Any]:
    payload = entry.get("payload")
    return payload if isinstance(payload, dict) else {}


def _key_holders(entries: list[dict[str, Any]], before: int) -> tuple[dict[str, bytes],
                                                                      dict[str, str]]:
    """(key holder -> identity key, node -> jurisdiction) as enrolled before ``before``."""
    holders: dict[str, bytes] = {}
    jurisdictions: dict[str, str] = {}
    for raw in entries[:before]:
        payload = _payload(raw)
        node = str(payload.get("node_id"))
        if raw.get("kind") == "enrolment":
            jurisdictions[node] = str(payload.get("jurisdiction"))
            if payload.get("key_holder") is True:
                try:
                    holders[node] = bytes.fromhex(str(payload.get("identity_public_key")))
                except ValueError:
                    continue
        elif raw.get("kind") == "revocation":
            holders.pop(node, None)
    return holders, jurisdictions


def _included(entries: list[dict[str, Any]], bundle: Mapping[str, Any], index: int) -> str | None:
    """None if entry ``index`` is proven in the latest signed tree head, else why not."""
    heads = [h for h in bundle.get("tree_heads") or [] if isinstance(h, dict)]
    if not heads:
        return "the bundle has no signed tree head"
    head = heads[-1]
    size = int(head.get("tree_size", 0))
    if index >= size or size > len(entries):
        return f"entry {index} is not covered by the latest signed tree head (size {size})"
    try:
        leaves = [
            LogEntry(int(e["index"]), str(e["kind"]), int(e["timestamp_ms"]),
                     canonical(e.get("payload"), "payload"), b"").computed_leaf_hash()
            for e in entries[:size]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        return f"entries cannot be hashed: {exc}"

    @functools.cache
    def perfect(level: int, i: int) -> bytes:
        if level == 0:
            return leaves[i]
        return merkle.node_hash(perfect(level - 1, 2 * i), perfect(level - 1, 2 * i + 1))

    try:
        proof = merkle.inclusion_proof(merkle.reader_from(perfect), index, size)
        merkle.verify_inclusion(index, size, leaves[index], proof,
                                bytes.fromhex(str(head.get("root_hash"))))
    except (merkle.MerkleError, ValueError) as exc:
        return f"inclusion proof of entry {index} fails: {exc}"
    return None


def _load_model(model_dir: Path, report: ModelReport) -> tuple[Any, dict[str, Any]]:
    """(PublishedModel or None, the model.json document as read)."""
    from open_models.errors import OpenModelsError
    from open_models.published import METADATA_FILE, PublishedModel

    try:
        document = json.loads((model_dir / METADATA_FILE).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelAuditInputError(f"{model_dir / METADATA_FILE}: unreadable: {exc}") from exc
    if not isinstance(document, dict):
        raise ModelAuditInputError(f"{model_dir / METADATA_FILE}: not a JSON object")
    try:
        return PublishedModel.load(model_dir), document
    except OpenModelsError as exc:
        report.fail("weights-hash", str(model_dir), f"the model files do not verify: {exc}")
        return None, document


def _publication(entries: list[dict[str, Any]], report: ModelReport,
                 version: str | None) -> dict[str, Any] | None:
    found = [
        e for e in entries
        if e.get("kind") == "publication" and _payload(e).get("model_id") == report.model_id
        and (version is None or _payload(e).get("version") == version)
    ]
    if not found:
        report.fail("not-in-log", "log",
                    f"no publication entry for model {report.model_id} version {version}")
        return None
    return found[-1]


def verify_model(bundle: Mapping[str, Any], model_dir: Path, model_id: str,
                 version: str | None = None) -> ModelReport:
    report = ModelReport(model_id, version)
    log_report = verify_bundle(bundle)  # BundleFormatError: unreadable
    for p in log_report.problems:
        where = f"entry {p.entry_index}" if p.entry_index is not None else "log"
        report.fail("log", where, p.message)
    entries = _entries(bundle)
    model, document = _load_model(model_dir, report)
    pub = _publication(entries, report, version)
    if pub is None:
        return report
    payload, index = _payload(pub), int(pub["index"])
    report.entry_index, report.version = index, str(payload.get("version"))
    report.content_hash = str(payload.get("content_hash"))
    if model is not None:
        if (model.model_id, model.version) != (model_id, report.version):
            report.fail("model-identity", "model.json",
                        f"files are {model.model_id} {model.version}, the log entry "
                        f"{index} publishes {model_id} {report.version}")
        if model.content_hash != report.content_hash:
            report.fail("hash-not-logged", f"entry {index}",
                        f"the files hash to {model.content_hash}, the log published "
                        f"{report.content_hash}")
    why = _included(entries, bundle, index)
    if why:
        report.fail("not-included", f"entry {index}", why)
    card = model.card if model is not None else document.get("card") or {}
    _check_rounds_and_attestations(entries, payload, index, dict(card), report)
    return report


def _check_rounds_and_attestations(entries: list[dict[str, Any]], payload: dict[str, Any],
                                   pub_index: int, card: dict[str, Any],
                                   report: ModelReport) -> None:
    run = payload.get("run") or card.get("run")
    holders, jurisdictions = _key_holders(entries, pub_index)
    t = payload.get("t", card.get("t", (card.get("federation") or {}).get("t")))
    if isinstance(t, int) and not isinstance(t, bool) and t >= 1:
        report.t = t
    else:
        report.fail("t-unpublished", f"entry {pub_index}",
                    "neither the publication nor the card states t (attestations required)")
    run_rounds: dict[int, list[dict[str, Any]]] = {}
    for e in entries[:pub_index]:
        p = _payload(e)
        if e.get("kind") == "round" and p.get("run") == run and isinstance(p.get("round"), int):
            run_rounds.setdefault(p["round"], []).append(e)
    accepted = {
        r: e for r, es in run_rounds.items() for e in es
        if _payload(e).get("event") == "round_accepted"
    }
    report.rounds = sorted(accepted)
    if not accepted:
        report.fail("no-accepted-round", "log", f"the log has no accepted round for run {run!r}")
    raw_envelopes = payload.get("attestations")
    envelopes = raw_envelopes if isinstance(raw_envelopes, dict) else None
    signers_all: set[str] = set()
    for round_no, entry in sorted(accepted.items()):
        signers = _check_round_attestations(
            entries[:pub_index], entry, str(run), round_no, holders, report,
            None if envelopes is None else envelopes.get(str(round_no)),
        )
        signers_all |= signers
    report.signers = sorted(signers_all)
    _check_card(entries, card, run_rounds, accepted, jurisdictions, report)


def _check_round_attestations(entries: list[dict[str, Any]], round_entry: dict[str, Any],
                              run: str, round_no: int, holders: Mapping[str, bytes],
                              report: ModelReport, envelopes: Any) -> set[str]:
    rp = _payload(round_entry)
    where = f"round {round_no} (entry {round_entry['index']})"
    subject = f"model-update:{run}:{round_no}"
    digest = f"sha256:{rp.get('aggregate_sha256')}"
    logged = [
        _payload(e) for e in entries
        if e.get("kind") == "attestation" and _payload(e).get("subject_id") == subject
        and _payload(e).get("ciphertext_digest") == digest
    ]
    signers = {str(p.get("signer_id")) for p in logged}
    for outsider in sorted(signers - set(holders)):
        report.fail("attestation-not-key-holder", where,
                    f"{outsider} attested but is not a key holder enrolled in the log")
    valid = signers & set(holders)
    if report.t is not None and len(valid) < report.t:
        report.fail("attestations-below-t", where,
                    f"{len(valid)} attestation(s) by enrolled key holders in the log, "
                    f"t = {report.t}")
    if sorted(str(s) for s in rp.get("attested_by") or []) != sorted(signers):
        report.fail("attested-by-mismatch", where,
                    f"the round names {sorted(rp.get('attested_by') or [])} as attesters, "
                    f"the log's attestation entries {sorted(signers)}")
    if envelopes is None:
        report.unchecked.append(
            f"{where}: attestation signatures not re-checkable (the publication carries no "
            "signed envelopes)")
        return valid
    logged_sha = {(str(p.get("signer_id")), str(p.get("envelope_sha256"))) for p in logged}
    good: set[str] = set()
    values: set[tuple[str, ...]] = set()
    for raw in envelopes if isinstance(envelopes, list) else []:
        try:
            env = Envelope.from_json(raw)
            att = read_attestation(env, holders, nonce_store=None, subject_id=subject,
                                   round_id=round_no, digest=digest, max_age=None)
        except (EnvelopeError, AttestationError, ValueError) as exc:
            report.fail("attestation-invalid", where, f"a published attestation fails: {exc}")
            continue
        sha = hashlib.sha256(env.to_bytes()).hexdigest()
        if (att.signer_id, sha) not in logged_sha:
            report.fail("attestation-not-logged", where,
                        f"{att.signer_id}'s signed attestation is not the one logged")
            continue
        good.add(att.signer_id)
        values.add(att.values)
    if len(values) > 1:
        report.fail("attestations-disagree", where,
                    "the signed attestations carry different values")
    if report.t is not None and len(good) < report.t:
        report.fail("attestations-below-t", where,
                    f"{len(good)} valid signed attestation(s) published, t = {report.t}")
    return good


def _check_card(entries: list[dict[str, Any]], card: dict[str, Any],
                run_rounds: Mapping[int, list[dict[str, Any]]],
                accepted: Mapping[int, dict[str, Any]], jurisdictions: Mapping[str, str],
                report: ModelReport) -> None:
    contributors = {
        str(n) for e in accepted.values() for n in _payload(e).get("contributors") or []
    }
    claims = card.get("rounds")
    if isinstance(claims, list):
        claimed_accepted: set[int] = set()
        for claim in claims:
            if not isinstance(claim, dict):
                report.fail("card-rounds", "card.rounds", "a round claim is not an object")
                continue
            r = claim.get("round")
            where = f"card.rounds[round {r}]"
            status = claim.get("status")
            if status == "accepted" and isinstance(r, int):
                claimed_accepted.add(r)
            idx = claim.get("log_index")
            if not isinstance(idx, int) or not 0 <= idx < len(entries):
                report.fail("card-rounds", where, f"log_index {idx!r} is not an entry of the log")
                continue
            p = _payload(entries[idx])
            if entries[idx].get("kind") != "round" or p.get("round") != r or \
                    p.get("event") != f"round_{status}":
                report.fail("card-rounds", where,
                            f"entry {idx} is not round {r} {status} "
                            f"(it is {entries[idx].get('kind')} {p.get('event')})")
                continue
            if status == "accepted":
                for key in ("contributors", "aggregate_sha256"):
                    claimed, logged = claim.get(key), p.get(key)
                    if key == "contributors":
                        claimed, logged = sorted(claimed or []), sorted(logged or [])
                    if claimed != logged:
                        report.fail("card-rounds", where,
                                    f"{key}: card claims {claimed}, log entry {idx} has {logged}")
        if claimed_accepted != set(accepted):
            report.fail("card-rounds", "card.rounds",
                        f"card claims accepted rounds {sorted(claimed_accepted)}, the log "
                        f"accepted {sorted(accepted)}")
    fed = card.get("federation")
    if not isinstance(fed, dict):
        if not isinstance(claims, list):
            report.fail("card-unverifiable", "card",
                        "the card states neither rounds nor federation nodes")
        return
    count = fed.get("rounds")
    if count is not None and count != len(run_rounds):
        report.fail("card-rounds", "card.federation.rounds",
                    f"card claims {count} rounds, the log has {len(run_rounds)} for this run")
    nodes = [n for n in fed.get("nodes") or [] if isinstance(n, dict)]
    named = {str(n.get("node_id")) for n in nodes}
    if named != contributors:
        report.fail("card-nodes", "card.federation.nodes",
                    f"card names nodes {sorted(named)}, the log's accepted rounds had "
                    f"contributors {sorted(contributors)}")
    for n in nodes:
        node = str(n.get("node_id"))
        where = f"card.federation.nodes[{node}]"
        enrolled = jurisdictions.get(node)
        if enrolled is not None and n.get("jurisdiction") != enrolled:
            report.fail("card-nodes", where,
                        f"jurisdiction {n.get('jurisdiction')!r}, enrolled as {enrolled!r}")
        spent, budget = n.get("epsilon_spent"), n.get("epsilon_budget")
        if not isinstance(spent, int | float) or isinstance(spent, bool) or spent <= 0:
            report.fail("card-privacy", where,
                        f"epsilon_spent {spent!r}: DP training must state a positive spend")
        elif isinstance(budget, int | float) and spent > budget + 1e-9:
            report.fail("card-privacy", where, f"epsilon_spent {spent} exceeds budget {budget}")
        runs = {str(_payload(e)["run"]) for e in accepted.values() if _payload(e).get("run")}
        logged = _logged_spend(entries, node, runs)
        if logged is not None and isinstance(spent, int | float) and \
                not math.isclose(logged, float(spent), rel_tol=1e-9):
            report.fail("card-privacy", where,
                        f"epsilon_spent {spent}, the log records {logged}")


def _logged_spend(entries: list[dict[str, Any]], node: str, runs: set[str]) -> float | None:
    """The last epsilon the log records for ``node``'s training in this model's run.

    Only entries of the publishing run count: a later run in the same accounting period
    spends more, and must not make an earlier, honest model card look wrong.
    """
    value = None
    for e in entries:
        p = _payload(e)
        if runs and p.get("run") not in runs:
            continue
        if p.get("node_id") == node and isinstance(p.get("epsilon_spent"), int | float):
            value = float(p["epsilon_spent"])
    return value


# --- reproduce-eval ------------------------------------------------------------------------


def reproduce_evaluation(model_dir: Path, report: ModelReport) -> dict[str, Any] | None:
    """Re-run the card's evaluation on its published evaluation set; problems into report."""
    from open_models.evaluation import baseline_estimates, evaluate

    model, _ = _load_model(model_dir, report)
    if model is None:
        return None
    evaluation = model.card.get("evaluation")
    dataset = evaluation.get("dataset") if isinstance(evaluation, dict) else None
    if not isinstance(dataset, dict) or not isinstance(dataset.get("file"), str):
        report.fail("no-evaluation-set", "card.evaluation.dataset",
                    "the card names no published evaluation set")
        return None
    name = dataset["file"]
    path = model_dir / name
    if Path(name).name != name or not path.is_file():
        report.fail("no-evaluation-set", name, "the evaluation set file is not published")
        return None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != dataset.get("sha256"):
        report.fail("evaluation-set-hash", name,
                    f"file hashes to {digest}, the card pins {dataset.get('sha256')}")
        return None
    records, truth = read_evaluation_set(data)
    method = str(dataset.get("method") or "model")
    predicted = model.predict(records)
    estimates = {method: predicted["estimate_direct_tco2e"].to_numpy(dtype=float),
                 **baseline_estimates(records)}
    interval = (predicted["estimate_low_tco2e"].to_numpy(dtype=float),
                predicted["estimate_high_tco2e"].to_numpy(dtype=float))
    recomputed = evaluate(records, truth, estimates, model=method, interval=interval)
    published = {k: v for k, v in evaluation.items() if k != "dataset"}
    _compare(published, json.loads(json.dumps(recomputed, default=_plain_json)), "evaluation",
             report)
    return recomputed


def _plain_json(value: Any) -> Any:
    return _plain(value)


def _compare(published: Any, recomputed: Any, where: str, report: ModelReport) -> None:
    if isinstance(published, dict):
        if not isinstance(recomputed, dict):
            report.fail("evaluation-mismatch", where, "published an object, recomputed a value")
            return
        for key, value in published.items():
            if key not in recomputed:
                report.fail("evaluation-unreproducible", f"{where}.{key}",
                            "published but not produced by the evaluation")
                continue
            _compare(value, recomputed[key], f"{where}.{key}", report)
        return
    if isinstance(published, list):
        if not isinstance(recomputed, list) or len(published) != len(recomputed):
            report.fail("evaluation-mismatch", where, "lists differ in length")
            return
        for i, (a, b) in enumerate(zip(published, recomputed, strict=True)):
            _compare(a, b, f"{where}[{i}]", report)
        return
    a, b = _as_number(published), _as_number(recomputed)
    if a is not None or b is not None:
        same = (a is None and b is None) or (
            a is not None and b is not None
            and ((math.isnan(a) and math.isnan(b))
                 or math.isclose(a, b, rel_tol=EVAL_RTOL, abs_tol=EVAL_ATOL))
        )
        if not same:
            report.fail("evaluation-mismatch", where,
                        f"published {published!r}, recomputed {recomputed!r}")
    elif published != recomputed:
        report.fail("evaluation-mismatch", where,
                    f"published {published!r}, recomputed {recomputed!r}")


def _as_number(value: Any) -> float | None:
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


# --- the verbs -----------------------------------------------------------------------------

ExportOpt = Annotated[
    Path | None, typer.Option("--export", help="Portal export: zip or unpacked directory.")
]
PortalOpt = Annotated[
    str | None, typer.Option("--portal", help="Portal base URL; its /api/export is fetched.")
]
VersionOpt = Annotated[
    str | None, typer.Option("--version", help="Model version (default: latest published).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _run(model_id: str, export: Path | None, portal: str | None, version: str | None,
         as_json: bool, title: str, body: Any, strict: bool = False,
         reproduced: bool = False) -> None:
    from governance.audit_cli import _emit

    report = ModelReport(model_id, version)
    try:
        with open_export(export, portal) as directory:
            bundle, manifest = load_export(directory)
            model_dir, version = model_directory(directory, manifest, model_id, version)
            report = body(bundle, model_dir, version)
    except (ModelAuditInputError, BundleFormatError) as exc:
        problem = {"code": "input-unreadable", "where": "", "message": str(exc)}
        _emit({"ok": False, "unreadable": True, "summary": str(exc), "problems": [problem]},
              as_json=as_json, title=title)
        return
    data = report.to_json(strict)
    if strict:
        data["problems"] = data["problems"] + [
            {"code": "unchecked", "where": "", "message": m} for m in report.unchecked
        ]
    if data["ok"] and reproduced:
        data["summary"] = (
            f"model {model_id} {report.version} ({report.content_hash}, log entry "
            f"{report.entry_index}): every published evaluation number was reproduced on the "
            "published evaluation set"
        )
    elif data["ok"]:
        data["summary"] = (
            f"model {model_id} {report.version} ({report.content_hash}) is published at log "
            f"entry {report.entry_index}; rounds {report.rounds} attested by "
            f"{report.signers} (t = {report.t})"
        )
        if report.unchecked:
            data["summary"] += "; UNCHECKED: " + "; ".join(report.unchecked)
    else:
        first = data["problems"][0]
        data["summary"] = (f"{len(data['problems'])} problem(s); first: {first['code']} at "
                           f"{first['where']}: {first['message']}")
    _emit(data, as_json=as_json, title=title)


def verify_model_cmd(
    model_id: Annotated[str, typer.Argument(help="Published model id.")],
    export: ExportOpt = None,
    portal: PortalOpt = None,
    version: VersionOpt = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail when attestation signatures cannot be re-checked.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Verify a published model: weights hash in the log, t attestations, card claims."""

    def body(bundle: dict[str, Any], model_dir: Path, v: str) -> ModelReport:
        return verify_model(bundle, model_dir, model_id, v)

    _run(model_id, export, portal, version, as_json, f"model {model_id}", body, strict)


def reproduce_eval_cmd(
    model_id: Annotated[str, typer.Argument(help="Published model id.")],
    export: ExportOpt = None,
    portal: PortalOpt = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-run a published model's evaluation on its published evaluation set and compare."""

    def body(bundle: dict[str, Any], model_dir: Path, v: str) -> ModelReport:
        report = ModelReport(model_id, v)
        entries = _entries(bundle)
        pub = _publication(entries, report, v)
        reproduce_evaluation(model_dir, report)
        if pub is not None:
            report.entry_index = int(pub["index"])
            report.content_hash = str(_payload(pub).get("content_hash"))
            from open_models.errors import OpenModelsError
            from open_models.published import PublishedModel

            try:
                actual = PublishedModel.load(model_dir).content_hash
            except OpenModelsError:
                actual = None
            if actual is not None and actual != report.content_hash:
                report.fail("hash-not-logged", f"entry {pub['index']}",
                            f"the files hash to {actual}, the log published {report.content_hash}")
        return report

    _run(model_id, export, portal, version, as_json, f"evaluation of {model_id}", body,
         reproduced=True)


def register(app: typer.Typer) -> None:
    app.command("verify-model")(verify_model_cmd)
    app.command("reproduce-eval")(reproduce_eval_cmd)
