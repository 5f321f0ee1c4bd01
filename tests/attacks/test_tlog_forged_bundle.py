"""Attack: a log bundle forged from scratch under the same log id with a fresh key.

The forger runs the real pipeline on its own machine: a fresh ``coordinator`` identity
(the genuine log's id), a fresh database, three invented members founding their own
trust policy in its log, a real statistics round (real CKKS sums, ``StatisticsService``),
and then a benchmark whose BF-BOF steel intensity its key holders "attest" at 0.30
tCO2e/t (the genuine figure is several times higher). Everything in the bundle is
internally consistent: pinned to the *forger's* key, ``gcdt-audit verify-log`` and
``verify-benchmark`` pass. Pinned to the genuine operator's key, as an auditor holding
that key out of band does, both fail and name the key they checked against. On main
(a11d848) both verbs trusted the key the bundle carried, so the forgery passed with exit 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coordinator.statistics import StatisticsService
from coordinator.store.repository import CoordinatorStore, open_engine
from governance.attestation import ATTESTATION_KIND, DEFAULT_DECIMALS, format_values
from governance.audit_cli import EXIT_FAILED, EXIT_OK, app
from governance.ckks import CkksKey, decrypt
from governance.envelope import Envelope, seal
from governance.identity import Identity
from governance.policy.models import PublicationThresholds
from governance.privacy import InMemoryLedgerStore, PrivacyLedger
from governance.translog import TransparencyLog, log_verifier
from kernel.settings import load_settings
from open_models.benchmark_cells import field_scale
from open_models.benchmark_values import derive_benchmarks
from tests.policy_setup import log_founded_policy
from trust_node.generate import generate
from trust_node.statistics import prepare_release

runner = CliRunner()
FORGED_INTENSITY = 0.30  # tCO2e per t of BF-BOF steel: the forged figure
INVENTED = ("holder-a", "holder-b", "holder-c")


@dataclass
class Forgery:
    bundle: Path
    benchmark_id: str
    forger_vkey: str
    genuine_vkey: str
    intensity: float


def _forge_values(terms: Any, values: list[float]) -> tuple[list[float], float]:
    """The decrypted sum with the 2022 BF-BOF steel cell made up outright: enough facilities
    and nodes to be published, emissions 0.30 t per t produced (the forger's choice; DP
    noise on the honest sums cannot change it)."""
    catalogue = terms.catalogue
    cell = ("iron_steel", "crude_steel", "bf_bof", 2022)
    forged = list(values)

    def put(name: str, value: float) -> None:
        forged[catalogue.offset(cell, name)] = value

    production = 0.5  # normalised units (times the sector's production bound)
    scale = field_scale("iron_steel", "production_t") / field_scale("iron_steel", "direct_tco2e")
    put("production_t", production)
    put("direct_tco2e", FORGED_INTENSITY * production * scale)
    put("facilities", terms.k + 10 + 10 * terms.sigma_total)
    put("nodes", terms.m + 1.0)
    put("hist_0", terms.k + 10.0)
    rounded = [float(v) for v in format_values(forged)]
    published = derive_benchmarks(terms, rounded)[catalogue.cell_index()[cell]]
    return forged, float(published.get("intensity_tco2e_per_t", 0.0))


@pytest.fixture(scope="module")
def forgery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forgery]:
    tmp = tmp_path_factory.mktemp("forger")
    genuine = Identity.generate("coordinator")  # the real operator: only its key is pinned
    forger = Identity.generate("coordinator")  # same log id, fresh key
    key = CkksKey.create()
    engine = open_engine(load_settings(home=tmp, database_url=f"sqlite:///{tmp}/forger.db"))
    store, log = CoordinatorStore(engine), TransparencyLog(engine, forger)
    holders = {n: Identity.generate(n) for n in INVENTED}
    for i, (node_id, ident) in enumerate(holders.items()):
        store.register_node(
            node_id=node_id,
            jurisdiction="IN",
            identity_public_key=ident.public_key,
            transport_public_key=bytes(32),
            cert_serial=700 + i,
            key_holder=True,
        )
        log.append(
            "enrolment",
            {"node_id": node_id, "identity_public_key": ident.public_key.hex(), "key_holder": True},
        )
    # its invented members found a trust policy of their own, logged as the genuine log would
    log_founded_policy(log, holders, list(INVENTED))
    records = generate(3, 300, seed=7, start_year=2022, end_year=2023).records
    parts = [g for _, g in records.groupby("jurisdiction")]
    service = StatisticsService(store, log, key.public(), PublicationThresholds(k=3, m=3, t=2))
    terms = service.open_round(years=(2022, 2023), epsilon=8.0, delta=1e-5, expected_nodes=INVENTED)
    ledger = PrivacyLedger(InMemoryLedgerStore())
    for node_id, part in zip(INVENTED, parts, strict=True):
        release = prepare_release(
            terms,
            key=key.public(),
            ledger=ledger,
            node_id=node_id,
            period="2026",
            budget=(100.0, 1e-5),
            load_records=lambda p=part: p,  # type: ignore[misc]
        )
        envelope = seal(holders[node_id], "statistics_submission", terms.round_id, {"n": node_id})
        service.accept_submission(terms.round_id, node_id, envelope, [release.vector])
    request = service.request_decryption(terms.round_id)
    forged, intensity = _forge_values(terms, decrypt(key, request.vector))
    from governance.attestation import ciphertext_digest

    payload = {
        "subject_id": terms.subject_id,
        "round_id": terms.round_id,
        "key_id": request.vector.key_id,
        "ciphertext_digest": ciphertext_digest(request.vector),
        "decimals": DEFAULT_DECIMALS,
        "values": format_values(forged, DEFAULT_DECIMALS),
    }
    for node_id in INVENTED[:2]:
        envelope = seal(holders[node_id], ATTESTATION_KIND, terms.round_id, payload)
        service.accept_attestation(request.request_id, envelope)
    published = service.publish(terms.round_id)
    bundle = log.export_bundle(tmp / "forged-bundle.json")
    engine.dispose()
    yield Forgery(
        bundle,
        str(published["benchmark_id"]),
        str(log.verifier),
        str(log_verifier("coordinator", genuine.public_key)),
        intensity,
    )


def _audit(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_the_forgery_is_internally_perfect(forgery: Forgery) -> None:
    """Pinned to the forger's own key, everything verifies: only the pin can catch it."""
    assert round(forgery.intensity, 2) == FORGED_INTENSITY
    code, report = _audit("verify-log", str(forgery.bundle), "--log-key", forgery.forger_vkey)
    assert code == EXIT_OK, report
    code, report = _audit(
        "verify-benchmark",
        forgery.benchmark_id,
        "--bundle",
        str(forgery.bundle),
        "--log-key",
        forgery.forger_vkey,
    )
    assert code == EXIT_OK, report


def test_verify_log_with_the_pinned_key_refuses_the_forgery(forgery: Forgery) -> None:
    code, report = _audit("verify-log", str(forgery.bundle), "--log-key", forgery.genuine_vkey)
    assert code == EXIT_FAILED, report
    assert {p["code"] for p in report["problems"]} >= {"checkpoint-unsigned"}
    pinned = "+".join(forgery.genuine_vkey.split("+")[:2])
    assert report["log_key"] == pinned and report["pinned"] is True
    assert pinned in report["summary"]


def test_verify_benchmark_with_the_pinned_key_refuses_the_forgery(forgery: Forgery) -> None:
    code, report = _audit(
        "verify-benchmark",
        forgery.benchmark_id,
        "--bundle",
        str(forgery.bundle),
        "--log-key",
        forgery.genuine_vkey,
    )
    assert code == EXIT_FAILED, report
    assert any("not signed by the pinned log key" in p["message"] for p in report["problems"])
    assert "+".join(forgery.genuine_vkey.split("+")[:2]) in report["summary"]


def test_the_bundle_names_the_forger_key_which_is_never_trusted(forgery: Forgery) -> None:
    data = json.loads(forgery.bundle.read_text())
    assert data["log_id"] == "coordinator" and data["log_vkey"] == forgery.forger_vkey
    result = runner.invoke(app, ["verify-log", str(forgery.bundle), "--json"])
    assert result.exit_code != EXIT_OK  # no pinned key: refused, never the bundle's own


def test_envelopes_of_the_forgery_are_by_invented_holders(forgery: Forgery) -> None:
    data = json.loads(forgery.bundle.read_text())
    pub = next(e for e in data["entries"] if e["kind"] == "publication")
    signers = {Envelope.from_json(a).signer_id for a in pub["payload"]["attestations"]}
    assert signers <= set(INVENTED)
