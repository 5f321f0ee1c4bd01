"""``verify-model``'s checks of the log: bundle, content hash, inclusion, attestations.

Each failure goes into the :class:`~governance.audit_models.report.ModelReport` with a code
and where it is, so one run lists every problem; the card's claims are checked by
:mod:`governance.audit_models.card_claims` against what these checks found in the log, and
last the weights are recomputed from the attested aggregates
(:mod:`governance.audit_models.recompute`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from governance.attestation import MIN_T, AttestationError, read_attestation
from governance.audit_models.card_claims import check_card, check_card_caps
from governance.audit_models.recompute import check_recomputation
from governance.audit_models.report import ModelReport
from governance.audit_models.sources import bundle_entries, entry_payload, load_model
from governance.envelope import Envelope
from governance.errors import EnvelopeError
from governance.policy.in_force import privacy_cap_in_force
from governance.policy.logged import key_holders_in_force
from governance.translog import Anchors, LogEntry, merkle, verify_bundle
from governance.translog.records import canonical

#: The fewest distinct contributors an accepted round's sum may have, whatever the policy.
MIN_CONTRIBUTORS = 2


def _key_holders(
    entries: list[dict[str, Any]], before: int
) -> tuple[dict[str, bytes], dict[str, str]]:
    """(key holder -> identity key, node -> jurisdiction) before ``before``: holders as the
    member-signed trust policy in force named them (:mod:`governance.policy.logged`)."""
    jurisdictions: dict[str, str] = {}
    for raw in entries[:before]:
        if raw.get("kind") == "enrolment":
            payload = entry_payload(raw)
            jurisdictions[str(payload.get("node_id"))] = str(payload.get("jurisdiction"))
    holders = key_holders_in_force(
        (str(raw.get("kind")), entry_payload(raw)) for raw in entries[:before]
    )
    return holders, jurisdictions


def _thresholds_in_force(entries: list[dict[str, Any]], before: int) -> dict[str, Any]:
    """The publication thresholds of the last trust ``policy_change`` logged before ``before``."""
    found: dict[str, Any] = {}
    for raw in entries[:before]:
        payload = entry_payload(raw)
        if raw.get("kind") == "policy_change" and payload.get("policy") == "trust":
            thresholds = payload.get("thresholds")
            found = dict(thresholds) if isinstance(thresholds, dict) else {}
    return found


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
            LogEntry(
                int(e["index"]),
                str(e["kind"]),
                int(e["timestamp_ms"]),
                canonical(e.get("payload"), "payload"),
                b"",
            ).computed_leaf_hash()
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
        merkle.verify_inclusion(
            index, size, leaves[index], proof, bytes.fromhex(str(head.get("root_hash")))
        )
    except (merkle.MerkleError, ValueError) as exc:
        return f"inclusion proof of entry {index} fails: {exc}"
    return None


def find_publication(
    entries: list[dict[str, Any]], report: ModelReport, version: str | None
) -> dict[str, Any] | None:
    """The last ``publication`` entry for the report's model (and version), or a failure."""
    found = [
        e
        for e in entries
        if e.get("kind") == "publication"
        and entry_payload(e).get("model_id") == report.model_id
        and (version is None or entry_payload(e).get("version") == version)
    ]
    if not found:
        report.fail(
            "not-in-log",
            "log",
            f"no publication entry for model {report.model_id} version {version}",
        )
        return None
    return found[-1]


def verify_model(
    bundle: Mapping[str, Any],
    model_dir: Path,
    model_id: str,
    version: str | None = None,
    anchors: Anchors | None = None,
    *,
    thresholds: Mapping[str, int] | None = None,
) -> ModelReport:
    """Check a published model's files against the exported log, listing every problem.

    The log verifies, the files hash to what its publication entry of ``model_id`` (and
    ``version``, default the latest) states, that entry is in the signed tree, each accepted
    round carries ``t`` key-holder attestations, the card's claims hold, and the weights are
    the update rule applied to the attested aggregates (:mod:`.recompute`). ``thresholds``
    (``t``, ``m``: a node's own copy of the trust policy) raise what the log's policy asks.
    Failures go into the returned report; a bundle unusable as a whole raises
    :class:`BundleFormatError`.
    """
    report = ModelReport(model_id, version)
    log_report = verify_bundle(bundle, anchors)  # BundleFormatError: unreadable
    report.log_key, report.pinned = log_report.log_key, log_report.pinned
    for p in log_report.problems:
        where = f"entry {p.entry_index}" if p.entry_index is not None else "log"
        report.fail("log", where, p.message)
    entries = bundle_entries(bundle)
    model, document = load_model(model_dir, report)
    pub = find_publication(entries, report, version)
    if pub is None:
        return report
    payload, index = entry_payload(pub), int(pub["index"])
    report.entry_index, report.version = index, str(payload.get("version"))
    report.content_hash = str(payload.get("content_hash"))
    if model is not None:
        if (model.model_id, model.version) != (model_id, report.version):
            report.fail(
                "model-identity",
                "model.json",
                f"files are {model.model_id} {model.version}, the log entry "
                f"{index} publishes {model_id} {report.version}",
            )
        if model.content_hash != report.content_hash:
            report.fail(
                "hash-not-logged",
                f"entry {index}",
                f"the files hash to {model.content_hash}, the log published {report.content_hash}",
            )
    why = _included(entries, bundle, index)
    if why:
        report.fail("not-included", f"entry {index}", why)
    card = model.card if model is not None else document.get("card") or {}
    agreed = _check_rounds_and_attestations(
        entries, payload, index, dict(card), report, dict(thresholds or {})
    )
    if model is not None:
        check_recomputation(model, model_dir, report.rounds, agreed, report)
    return report


def _raised(policy: dict[str, Any], floor: Mapping[str, int]) -> dict[str, Any]:
    """The log's thresholds, each raised to the verifier's own (``t``, ``m``)."""
    out = dict(policy)
    for name, value in floor.items():
        logged = out.get(name)
        out[name] = max(logged, value) if isinstance(logged, int) else value
    return out


def _check_rounds_and_attestations(
    entries: list[dict[str, Any]],
    payload: dict[str, Any],
    pub_index: int,
    card: dict[str, Any],
    report: ModelReport,
    floor: Mapping[str, int],
) -> dict[int, tuple[str, ...] | None]:
    """Check rounds and attestations; returns each accepted round's agreed signed values."""
    run = payload.get("run") or card.get("run")
    holders, jurisdictions = _key_holders(entries, pub_index)
    t = payload.get("t", card.get("t", (card.get("federation") or {}).get("t")))
    policy = _raised(_thresholds_in_force(entries, pub_index), floor)
    if isinstance(t, int) and not isinstance(t, bool) and t >= 1:
        report.t = t
        if t < MIN_T:
            report.fail(
                "t-below-minimum",
                f"entry {pub_index}",
                f"the publication claims t = {t}: no publication rests on fewer than {MIN_T} "
                "attestations",
            )
        policy_t = policy.get("t")
        if isinstance(policy_t, int) and t < policy_t:
            report.fail(
                "t-below-policy",
                f"entry {pub_index}",
                f"the publication claims t = {t}, the trust policy in force requires t = "
                f"{policy_t}",
            )
    else:
        report.fail(
            "t-unpublished",
            f"entry {pub_index}",
            "neither the publication nor the card states t (attestations required)",
        )
    run_rounds: dict[int, list[dict[str, Any]]] = {}
    for e in entries[:pub_index]:
        p = entry_payload(e)
        if e.get("kind") == "round" and p.get("run") == run and isinstance(p.get("round"), int):
            run_rounds.setdefault(p["round"], []).append(e)
    accepted = {
        r: e
        for r, es in run_rounds.items()
        for e in es
        if entry_payload(e).get("event") == "round_accepted"
    }
    report.rounds = sorted(accepted)
    policy_m = policy.get("m")
    need = max(policy_m if isinstance(policy_m, int) else 0, MIN_CONTRIBUTORS)
    for round_no, entry in sorted(accepted.items()):
        contributors = entry_payload(entry).get("contributors")
        count = len(set(map(str, contributors))) if isinstance(contributors, list) else 0
        if count < need:
            report.fail(
                "contributors-below-minimum",
                f"round {round_no} (entry {entry['index']})",
                f"the round's sum has {count} distinct contributor(s), at least {need} required "
                "(the trust policy's m)",
            )
    if not accepted:
        report.fail("no-accepted-round", "log", f"the log has no accepted round for run {run!r}")
    raw_envelopes = payload.get("attestations")
    envelopes = raw_envelopes if isinstance(raw_envelopes, dict) else None
    signers_all: set[str] = set()
    agreed: dict[int, tuple[str, ...] | None] = {}
    for round_no, entry in sorted(accepted.items()):
        signers, agreed[round_no] = _check_round_attestations(
            entries[:pub_index],
            entry,
            str(run),
            round_no,
            holders,
            report,
            None if envelopes is None else envelopes.get(str(round_no)),
        )
        signers_all |= signers
    report.signers = sorted(signers_all)
    check_card(entries, card, run_rounds, accepted, jurisdictions, report)
    check_card_caps(card, privacy_cap_in_force(entries, pub_index), report)
    return agreed


def _check_round_attestations(
    entries: list[dict[str, Any]],
    round_entry: dict[str, Any],
    run: str,
    round_no: int,
    holders: Mapping[str, bytes],
    report: ModelReport,
    envelopes: Any,
) -> tuple[set[str], tuple[str, ...] | None]:
    """The round's valid signers, and the values they agree on (None: not re-checkable)."""
    rp = entry_payload(round_entry)
    where = f"round {round_no} (entry {round_entry['index']})"
    subject = f"model-update:{run}:{round_no}"
    digest = f"sha256:{rp.get('aggregate_sha256')}"
    logged = [
        entry_payload(e)
        for e in entries
        if e.get("kind") == "attestation"
        and entry_payload(e).get("subject_id") == subject
        and entry_payload(e).get("ciphertext_digest") == digest
    ]
    signers = {str(p.get("signer_id")) for p in logged}
    for outsider in sorted(signers - set(holders)):
        report.fail(
            "attestation-not-key-holder",
            where,
            f"{outsider} attested but is not a key holder enrolled in the log",
        )
    valid = signers & set(holders)
    if report.t is not None and len(valid) < report.t:
        report.fail(
            "attestations-below-t",
            where,
            f"{len(valid)} attestation(s) by enrolled key holders in the log, t = {report.t}",
        )
    if sorted(str(s) for s in rp.get("attested_by") or []) != sorted(signers):
        report.fail(
            "attested-by-mismatch",
            where,
            f"the round names {sorted(rp.get('attested_by') or [])} as attesters, "
            f"the log's attestation entries {sorted(signers)}",
        )
    if envelopes is None:
        report.unchecked.append(
            f"{where}: attestation signatures not re-checkable (the publication carries no "
            "signed envelopes), so the weights are not recomputed from them"
        )
        return valid, None
    logged_sha = {(str(p.get("signer_id")), str(p.get("envelope_sha256"))) for p in logged}
    good: set[str] = set()
    values: set[tuple[str, ...]] = set()
    for raw in envelopes if isinstance(envelopes, list) else []:
        try:
            env = Envelope.from_json(raw)
            att = read_attestation(
                env,
                holders,
                nonce_store=None,
                subject_id=subject,
                round_id=round_no,
                digest=digest,
                max_age=None,
            )
        except (EnvelopeError, AttestationError, ValueError) as exc:
            report.fail("attestation-invalid", where, f"a published attestation fails: {exc}")
            continue
        sha = hashlib.sha256(env.to_bytes()).hexdigest()
        if (att.signer_id, sha) not in logged_sha:
            report.fail(
                "attestation-not-logged",
                where,
                f"{att.signer_id}'s signed attestation is not the one logged",
            )
            continue
        good.add(att.signer_id)
        values.add(att.values)
    if len(values) > 1:
        report.fail(
            "attestations-disagree", where, "the signed attestations carry different values"
        )
    if report.t is not None and len(good) < report.t:
        report.fail(
            "attestations-below-t",
            where,
            f"{len(good)} valid signed attestation(s) published, t = {report.t}",
        )
    enough = report.t is not None and len(good) >= report.t
    return good, (next(iter(values)) if enough and len(values) == 1 else None)
