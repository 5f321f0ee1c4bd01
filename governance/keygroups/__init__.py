"""Key-group custody: each contribution split into additive shares modulo a prime, share k
encrypted under key group k's BFV key, so no single group can read a contribution (issue
13). See ``docs/keys-and-budgets.md`` and ``docs/threat-model.md`` (custody)."""

from governance.keygroups.ceremony import (
    GroupCeremonyOutput,
    GroupKeyPackage,
    GroupPublicKey,
    open_group_package,
    open_group_public_key,
    run_group_ceremony,
)
from governance.keygroups.contribution import Encoding, group_of_vector, share_contribution
from governance.keygroups.encoding import MIN_GROUPS, decode, encode, recombine, split
from governance.keygroups.errors import (
    BfvParameterError,
    FixedPointRangeError,
    GroupMismatchError,
    GroupPublicationError,
    KeyGroupError,
    KeyGroupPolicyError,
)
from governance.keygroups.groups import KeyGroup, check_groups, group_of_holder, key_groups
from governance.keygroups.keys import BfvKey, load_group_key
from governance.keygroups.noise import add_discrete_gaussian
from governance.keygroups.params import DEFAULT_BFV, DEFAULT_FRACTIONAL_BITS, BfvParameters
from governance.keygroups.publication import (
    GroupSum,
    RecombinedAggregate,
    attest_group_sum,
    recombine_attested,
)
from governance.keygroups.vectors import add_shares, check_share, decrypt_share, encrypt_share

__all__ = [
    "DEFAULT_BFV",
    "DEFAULT_FRACTIONAL_BITS",
    "MIN_GROUPS",
    "BfvKey",
    "BfvParameterError",
    "BfvParameters",
    "Encoding",
    "FixedPointRangeError",
    "GroupCeremonyOutput",
    "GroupKeyPackage",
    "GroupMismatchError",
    "GroupPublicKey",
    "GroupPublicationError",
    "GroupSum",
    "KeyGroup",
    "KeyGroupError",
    "KeyGroupPolicyError",
    "RecombinedAggregate",
    "add_discrete_gaussian",
    "add_shares",
    "attest_group_sum",
    "check_groups",
    "check_share",
    "decode",
    "decrypt_share",
    "encode",
    "encrypt_share",
    "group_of_holder",
    "group_of_vector",
    "key_groups",
    "load_group_key",
    "open_group_package",
    "open_group_public_key",
    "recombine",
    "recombine_attested",
    "run_group_ceremony",
    "share_contribution",
    "split",
]
