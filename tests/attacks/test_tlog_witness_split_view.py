"""Attack: the operator shows a member's witness a checkpoint that forks the log.

A witness (``governance.translog.witness``, the ``c2sp.org/tlog-witness`` add-checkpoint
check) cosigns the genuine log's checkpoints while each extends the last one it holds.
The operator -- holding the genuine log key -- then submits a validly signed checkpoint of
a rewritten log: larger (no consistency proof from the held root can verify) or of the
same size with another root. The witness refuses to cosign either, keeps the held and the
shown checkpoint as evidence, and stops cosigning that log. On main (a11d848) there were
no witnesses: nothing refused anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.identity import Identity
from governance.tables import migrate
from governance.translog import TransparencyLog
from governance.translog.note import SIG_COSIGNATURE_V1, NoteSigner, open_note
from governance.translog.witness import Witness, WitnessRefusal
from kernel.db import make_engine


def _log(path: Path, operator: Identity) -> TransparencyLog:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return TransparencyLog(engine, operator)


def _fill(log: TransparencyLog, start: int, count: int, *, forged: bool = False) -> None:
    for i in range(start, start + count):
        log.append("publication", {"seq": i, "forged": forged and i == 1})


@pytest.fixture
def setup(tmp_path: Path) -> tuple[TransparencyLog, TransparencyLog, Witness]:
    operator = Identity.generate("coordinator")
    genuine, fork = _log(tmp_path / "g.db", operator), _log(tmp_path / "f.db", operator)
    signer = NoteSigner("gcdt-witness/node-de", Ed25519PrivateKey.generate(), SIG_COSIGNATURE_V1)
    witness = Witness(tmp_path / "witness", signer, [genuine.verifier], clock=lambda: 1_700_000_000)
    return genuine, fork, witness


def _cosign(log: TransparencyLog, witness: Witness, old_size: int) -> str:
    head = log.tree_head()
    line = witness.add_checkpoint(log.witness_request(head, old_size))
    log.add_cosignatures(head, line)
    return log.cosigned_note(head)


def test_witness_refuses_an_inconsistent_checkpoint_and_keeps_evidence(
    setup: tuple[TransparencyLog, TransparencyLog, Witness],
) -> None:
    genuine, fork, witness = setup
    _fill(genuine, 0, 4)
    cosigned = _cosign(genuine, witness, 0)
    _, verified = open_note(cosigned, [witness.signer.verifier])
    assert verified[0].timestamp == 1_700_000_000  # time lives in the cosignature
    _fill(genuine, 4, 2)
    _cosign(genuine, witness, 4)  # consistent growth is cosigned
    assert witness.state(genuine.origin).size == 6  # type: ignore[union-attr]

    _fill(fork, 0, 8, forged=True)  # entry 1 differs: the fork cannot extend size 6
    head = fork.tree_head()
    with pytest.raises(WitnessRefusal) as refused:
        witness.add_checkpoint(fork.witness_request(head, 6))
    assert refused.value.status == 422
    evidence = witness.evidence(genuine.origin)
    assert len(evidence) == 1 and evidence[0]["shown"] == str(head.note())
    assert evidence[0]["held"].startswith(f"{genuine.origin}\n6\n")

    # halted: even the genuine log's next, consistent checkpoint is no longer cosigned
    _fill(genuine, 6, 1)
    with pytest.raises(WitnessRefusal) as halted:
        _cosign(genuine, witness, 6)
    assert halted.value.status == 409 and "halted" in str(halted.value)


def test_witness_refuses_two_checkpoints_of_one_size(
    setup: tuple[TransparencyLog, TransparencyLog, Witness],
) -> None:
    genuine, fork, witness = setup
    _fill(genuine, 0, 5)
    _cosign(genuine, witness, 0)
    _fill(fork, 0, 5, forged=True)
    head = fork.tree_head()
    with pytest.raises(WitnessRefusal) as refused:
        witness.add_checkpoint(fork.witness_request(head, 5))
    assert refused.value.status == 409 and "split view" in str(refused.value)
    assert witness.evidence(genuine.origin)[0]["why"].startswith("split view")


def test_witness_answers_a_stale_old_size_with_its_size(
    setup: tuple[TransparencyLog, TransparencyLog, Witness],
) -> None:
    genuine, _, witness = setup
    _fill(genuine, 0, 3)
    _cosign(genuine, witness, 0)
    _fill(genuine, 3, 3)
    with pytest.raises(WitnessRefusal) as stale:
        _cosign(genuine, witness, 0)
    assert stale.value.status == 409 and stale.value.body == "3\n"
    assert witness.evidence(genuine.origin) == []  # a stale client is not misbehaviour


def test_witness_refuses_a_checkpoint_signed_by_another_key(
    setup: tuple[TransparencyLog, TransparencyLog, Witness], tmp_path: Path
) -> None:
    _, _, witness = setup
    mallory = _log(tmp_path / "m.db", Identity.generate("coordinator"))
    _fill(mallory, 0, 2)
    with pytest.raises(WitnessRefusal) as refused:
        witness.add_checkpoint(mallory.witness_request(mallory.tree_head(), 0))
    assert refused.value.status == 403
