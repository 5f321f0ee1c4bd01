"""Attack: publish an aggregate that not every key group attested.

* Only group A's holders attest (group B never decrypts, or is left out of the request
  set): nothing is recombined, ``keygroup_publication_refused`` is logged.
* Group A's holders sign for group B's sum too (they cannot decrypt it, so they sign their
  own group's values under B's request): refused — they are not B's holders and their
  attestations name group A's key, ciphertext and group.
* Both groups reach ``t``, then two more holders of group B sign other values for B's sum
  (a group that disagrees late): the collection, redone in full at publication, sees two
  disagreeing sets of ``t`` in group B and refuses, logging the conflict; and waiting for
  attestations does not stop once ``t`` agree, so holders that disagree while the
  coordinator waits are seen too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.attestation import ATTESTATION_KIND, KEY_GROUP
from governance.envelope import seal
from governance.keygroups import GroupPublicationError, group_of_holder
from tests.attacks.keygroups_support import (
    CONTRIBUTORS,
    Custody,
    World,
    attest,
    make_custody,
    open_world,
    submit_round,
)


@pytest.fixture(scope="module")
def custody() -> Custody:
    return make_custody()


@pytest.fixture
def world(tmp_path: Path, custody: Custody) -> Iterator[World]:
    yield from open_world(tmp_path, custody)


def _round(w: World):  # type: ignore[no-untyped-def]
    return submit_round(w, {n: [float(i), 0.5] for i, n in enumerate(CONTRIBUTORS[:3])})


def _group(w: World, holder: str) -> str:
    group = group_of_holder(w.custody.groups, holder)
    assert group is not None
    return group


def _refusals(w: World) -> list[dict[str, object]]:
    return [
        dict(e.payload)
        for e in w.pipeline.log.iter_entries()
        if e.kind == "keygroup_publication_refused"
    ]


def test_only_one_group_attested_is_refused(world: World) -> None:
    _, requests = _round(world)
    attest(world, requests["group-a"], "ka-1")
    attest(world, requests["group-a"], "ka-2")
    with pytest.raises(GroupPublicationError, match="group group-b"):
        world.aggregation.recombine(requests, world.custody.groups, t=2, fractional_bits=20)
    with pytest.raises(GroupPublicationError, match="no sum of this group"):
        world.aggregation.recombine(
            {"group-a": requests["group-a"]}, world.custody.groups, t=2, fractional_bits=20
        )
    assert len(_refusals(world)) == 2


def test_one_groups_holders_cannot_stand_in_for_another(world: World) -> None:
    _, requests = _round(world)
    a, b = requests["group-a"], requests["group-b"]
    for holder in ("ka-1", "ka-2"):
        attest(world, a, holder)
        # group A's decryption, signed again and filed under group B's request
        forged = {
            "subject_id": b.subject_id,
            "round_id": b.round_id,
            "key_id": b.key_id,
            "ciphertext_digest": b.digest,
            "decimals": 0,
            "values": ["1", "2"],
            KEY_GROUP: "group-b",
        }
        envelope = seal(world.custody.identities[holder], ATTESTATION_KIND, b.round_id, forged)
        world.pipeline.store.add_attestation(b.request_id, holder, envelope)
    with pytest.raises(GroupPublicationError, match="group group-b: short"):
        world.aggregation.recombine(requests, world.custody.groups, t=2, fractional_bits=20)


def test_a_group_that_disagrees_late_refuses_publication(world: World) -> None:
    _, requests = _round(world)
    for holder in ("ka-1", "ka-2"):
        attest(world, requests["group-a"], holder)
    for holder in ("kb-1", "kb-2"):
        attest(world, requests["group-b"], holder)
    agreed = world.aggregation.recombine(requests, world.custody.groups, t=2, fractional_bits=20)
    assert agreed.values[1] == pytest.approx(1.5, abs=1e-5)
    b = requests["group-b"]
    honest = world.aggregation.pipeline.store.attestations(b.request_id)[0].payload
    assert isinstance(honest, dict)
    shifted = [
        str((int(v) + 2**20) % world.custody.public_keys[1].params.plain_modulus)
        for v in honest["values"]
    ]
    for holder in ("kb-3", "kb-4"):  # late, colluding: +1.0 on every value
        late = {**honest, "values": shifted}
        envelope = seal(world.custody.identities[holder], ATTESTATION_KIND, b.round_id, late)
        world.pipeline.store.add_attestation(b.request_id, holder, envelope)
    with pytest.raises(GroupPublicationError, match="group group-b: conflict"):
        world.aggregation.recombine(requests, world.custody.groups, t=2, fractional_bits=20)
    kinds = [e.kind for e in world.pipeline.log.iter_entries()]
    assert "attestation_conflict" in kinds
    refused = _refusals(world)[-1]["groups"]
    assert isinstance(refused, dict) and set(refused) == {"group-b"}
    assert str(refused["group-b"]).startswith("conflict")


def test_waiting_sees_a_group_that_disagrees_after_t_agreed(world: World) -> None:
    """The wait does not stop at t: holders kb-3 and kb-4 answer after kb-1 and kb-2 agreed
    (a thread, while the coordinator waits), with other values: refused, not published."""
    _, requests = _round(world)
    for holder in ("ka-1", "ka-2", "kb-1", "kb-2"):
        attest(world, requests[_group(world, holder)], holder)
    b = requests["group-b"]
    honest = world.pipeline.store.attestations(b.request_id)[0].payload
    assert isinstance(honest, dict)
    modulus = world.custody.public_keys[1].params.plain_modulus
    shifted = [str((int(v) + 2**20) % modulus) for v in honest["values"]]

    def late() -> None:
        time.sleep(0.3)
        for holder in ("kb-3", "kb-4"):
            envelope = seal(
                world.custody.identities[holder],
                ATTESTATION_KIND,
                b.round_id,
                {**honest, "values": shifted},
            )
            world.pipeline.store.add_attestation(b.request_id, holder, envelope)

    thread = threading.Thread(target=late)
    thread.start()
    try:
        with pytest.raises(GroupPublicationError, match="group group-b: conflict"):
            world.aggregation.await_recombined(
                requests, world.custody.groups, t=2, fractional_bits=20, timeout_s=60, poll_s=0.1
            )
    finally:
        thread.join()


def test_waiting_ends_at_the_timeout_with_t_per_group(world: World) -> None:
    _, requests = _round(world)
    for holder in ("ka-1", "ka-2", "kb-1", "kb-2"):  # kb-3, kb-4 never answer
        attest(world, requests[_group(world, holder)], holder)
    agreed = world.aggregation.await_recombined(
        requests, world.custody.groups, t=2, fractional_bits=20, timeout_s=0.5, poll_s=0.1
    )
    assert agreed.values[0] == pytest.approx(3.0, abs=1e-5)
