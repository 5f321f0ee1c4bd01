"""Our C2SP code against the specs' own published examples, byte for byte.

Sources (the example strings below are copied verbatim from them):

* ``c2sp.org/signed-note`` (C2SP/C2SP ``signed-note.md``) -- the example note;
* ``golang.org/x/mod/sumdb/note`` (the reference implementation; its package documentation
  and ``note_test.go``) -- the ``PeterNeumann`` key pair and signed note. Ed25519 is
  deterministic, so signing the same text must give the published signature;
* ``c2sp.org/tlog-checkpoint`` (``tlog-checkpoint.md``) -- the example checkpoint;
* ``c2sp.org/tlog-cosignature`` (``tlog-cosignature.md``) -- the cosigned message and the
  example cosignature line, whose timestamp is the message's;
* ``c2sp.org/tlog-proof`` (``tlog-proof.md``) -- the example proof (its signatures are
  elided with ``[...]`` in the spec, so only the proof part is parsed);
* ``c2sp.org/tlog-witness`` (``tlog-witness.md``) -- the example add-checkpoint body;
* ``c2sp.org/tlog-tiles`` (``tlog-tiles.md``) -- the path and partial-tile examples.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from governance.translog.checkpoint import Checkpoint, TlogProof
from governance.translog.note import (
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    NoteError,
    NoteSigner,
    Signature,
    UntrustedNoteError,
    VerifierKey,
    cosigned_message,
    open_note,
    parse_note,
)
from governance.translog.tiles import Tile, encode_index, parse_tile_path, tiles_for_size
from governance.translog.witness import _parse_request

# golang.org/x/mod/sumdb/note: package documentation and note_test.go
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdn"
    "gotpRZb6KE6RyyBwJnAM=\n"
)

# c2sp.org/signed-note, the example at the top of the spec
SPEC_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKO"
    "NrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

# c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature examples
CHECKPOINT_TEXT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
COSIGNED_MESSAGE = (
    "cosignature/v1\n"
    "time 1679315147\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
COSIGNATURE_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
    "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)

# c2sp.org/tlog-proof example (signature lines elided in the spec; we keep one as given)
PROOF = (
    "c2sp.org/tlog-proof@v1\n"
    "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
    "index 73894\n"
    "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
    "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
    "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
    "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
    "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
    "\n"
    "example.com/fancylog\n"
    "109482\n"
    "sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"
    "\n"
    "— example.com/fancylog hI2DJw[...]1roloI=\n"
)

# c2sp.org/tlog-witness, add-checkpoint example request body
WITNESS_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n" + CHECKPOINT_TEXT + "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhc"
    "yv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


class TestGoReferenceNote:
    def test_keys_parse_and_the_key_id_is_computed_as_specified(self) -> None:
        vkey = VerifierKey.parse(GO_VKEY)
        assert (vkey.name, vkey.sig_type) == ("PeterNeumann", SIG_ED25519)
        digest = hashlib.sha256(b"PeterNeumann\n\x01" + vkey.public_key).digest()
        assert vkey.key_id == digest[:4] == bytes.fromhex("c74f20a3")
        assert str(vkey) == GO_VKEY
        assert str(NoteSigner.parse(GO_SKEY).verifier) == GO_VKEY

    def test_signing_reproduces_the_published_signature(self) -> None:
        assert NoteSigner.parse(GO_SKEY).sign(GO_TEXT).line() == GO_SIG

    def test_the_published_note_verifies_and_a_changed_one_does_not(self) -> None:
        note, verified = open_note(GO_TEXT + "\n" + GO_SIG, [VerifierKey.parse(GO_VKEY)])
        assert note.text == GO_TEXT and verified[0].key.name == "PeterNeumann"
        with pytest.raises(NoteError, match="does not verify"):
            open_note(
                GO_TEXT.replace("answer", "Answer") + "\n" + GO_SIG, [VerifierKey.parse(GO_VKEY)]
            )

    def test_unknown_keys_are_ignored_and_no_known_signature_is_refused(self) -> None:
        other = NoteSigner.parse(GO_SKEY).verifier
        stranger = VerifierKey("PeterNeumann", SIG_ED25519, bytes(range(32)))
        assert stranger.key_id != other.key_id
        with pytest.raises(UntrustedNoteError):
            open_note(GO_TEXT + "\n" + GO_SIG, [stranger])

    @pytest.mark.parametrize(
        "mangled",
        [
            GO_VKEY.replace("c74f20a3", "c74f20a4"),  # key id does not match
            GO_VKEY.replace("PeterNeumann", "Peter Neumann"),  # a space in the name
            GO_VKEY[:-2],  # truncated key
            "PeterNeumann+c74f20a3",  # no key
        ],
    )
    def test_mangled_verifier_keys_are_refused(self, mangled: str) -> None:
        with pytest.raises(NoteError):
            VerifierKey.parse(mangled)


class TestSignedNoteSpecExample:
    def test_text_is_split_at_the_last_blank_line(self) -> None:
        note = parse_note(SPEC_NOTE)
        assert note.text.endswith("ed è subito sera.\n") and "\n\ned" in note.text
        (sig,) = note.signatures
        assert sig.name == "quasimodo.example/salvatore"
        assert sig.key_id == base64.b64decode("NnugSw==")[:4]
        assert len(sig.blob) == 64
        assert str(note) == SPEC_NOTE

    @pytest.mark.parametrize(
        "bad",
        [
            "no blank line\n— a b\n",
            "text\n\n— name\n",  # signature line without a signature
            "text\n\n- name AAAAAAA=\n",  # hyphen, not an em dash
            "text\x07\n\n— a AAAAAAA=\n",  # control character
            "text\n\n— a AAAAAAA=",  # no final newline
        ],
    )
    def test_malformed_notes_are_refused(self, bad: str) -> None:
        with pytest.raises(NoteError):
            parse_note(bad)


class TestCheckpointAndCosignature:
    def test_the_spec_checkpoint_round_trips(self) -> None:
        checkpoint = Checkpoint.parse(CHECKPOINT_TEXT)
        assert checkpoint.origin == "example.com/behind-the-sofa"
        assert checkpoint.size == 20852163
        assert checkpoint.text() == CHECKPOINT_TEXT

    @pytest.mark.parametrize(
        "bad",
        [
            CHECKPOINT_TEXT + "extension line\n",  # we refuse extension lines
            CHECKPOINT_TEXT.replace("20852163", "020852163"),  # leading zero
            CHECKPOINT_TEXT.replace("q2I=", "q2"),  # not a 32-byte hash
        ],
    )
    def test_bad_checkpoints_are_refused(self, bad: str) -> None:
        with pytest.raises(NoteError):
            Checkpoint.parse(bad)

    def test_the_cosigned_message_is_the_spec_one(self) -> None:
        assert cosigned_message(CHECKPOINT_TEXT, 1679315147) == COSIGNED_MESSAGE.encode()

    def test_the_spec_cosignature_carries_that_timestamp(self) -> None:
        sig = Signature.parse(COSIGNATURE_LINE)
        assert sig.name == "witness.example.com/w1" and len(sig.blob) == 8 + 64
        assert int.from_bytes(sig.blob[:8], "big") == 1679315147

    def test_our_cosignatures_verify_and_are_bound_to_their_time(self) -> None:
        signer = NoteSigner.parse(GO_SKEY)
        cosigner = NoteSigner("witness.example/w1", signer.private_key, SIG_COSIGNATURE_V1)
        line = cosigner.sign(CHECKPOINT_TEXT, timestamp=1679315147)
        vkey = cosigner.verifier
        assert (
            vkey.key_id
            == hashlib.sha256(b"witness.example/w1\n\x04" + vkey.public_key).digest()[:4]
        )
        assert vkey.verify(CHECKPOINT_TEXT, line.blob) == 1679315147
        moved = (1679315148).to_bytes(8, "big") + line.blob[8:]
        assert vkey.verify(CHECKPOINT_TEXT, moved) is None
        # a type-0x04 key never verifies a plain signature, and vice versa
        assert cosigner.verifier.key_id != signer.verifier.key_id


class TestProofAndWitnessExamples:
    def test_the_spec_proof_parses_and_round_trips(self) -> None:
        proof = TlogProof.parse(PROOF)
        assert proof.index == 73894 and len(proof.path) == 5
        assert proof.extra is not None
        assert proof.checkpoint_note.startswith("example.com/fancylog\n109482\n")
        assert str(proof) == PROOF

    def test_the_spec_witness_request_parses(self) -> None:
        old, proof, note = _parse_request(WITNESS_REQUEST)
        assert old == 20852014 and len(proof) == 4
        assert Checkpoint.parse(parse_note(note).text).size == 20852163


class TestTilePaths:
    def test_the_spec_index_encoding(self) -> None:
        assert encode_index(1234067) == "x001/x234/067"
        assert encode_index(0) == "000"
        assert parse_tile_path("tile/0/x001/x234/067") == Tile(0, 1234067, 256)
        assert parse_tile_path("tile/entries/000.p/7") == Tile(None, 0, 7)

    def test_the_spec_tree_of_70000(self) -> None:
        tiles = list(tiles_for_size(70000))
        level0 = [t for t in tiles if t.level == 0]
        assert sum(not t.partial for t in level0) == 273
        assert [t.width for t in level0 if t.partial] == [112]
        assert [(t.level, t.width) for t in tiles if t.level and t.level > 0] == [
            (1, 256),
            (1, 17),
            (2, 1),
        ]

    def test_the_spec_tree_of_256(self) -> None:
        assert list(tiles_for_size(256)) == [Tile(0, 0, 256), Tile(1, 0, 1)]

    @pytest.mark.parametrize(
        "bad", ["tile/0/1", "tile/64/000", "tile/0/000.p/256", "tile/0/000.p/0", "tile/01/000"]
    )
    def test_bad_paths_are_refused(self, bad: str) -> None:
        with pytest.raises(ValueError):
            parse_tile_path(bad)
