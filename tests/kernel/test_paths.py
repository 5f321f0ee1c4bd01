"""``kernel.paths``: the one identifier pattern, and joins that cannot leave their base."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.paths import UnsafePathError, identifier, within


@pytest.mark.parametrize("good", ["run-1", "gcdt-emission-factor", "v1.2.3", "A_b", "round-7.npz"])
def test_identifiers_that_are_one_safe_component_pass(good: str) -> None:
    assert identifier(good) == good


@pytest.mark.parametrize(
    "bad",
    ["", ".", "..", "../x", "a/b", "/abs", ".hidden", "a\x00b", "a\n", "a b", "x" * 129, 7, None],
)
def test_anything_else_is_refused_without_repeating_it(bad: object) -> None:
    with pytest.raises(UnsafePathError) as caught:
        identifier(bad, "model id")
    assert "model id" in str(caught.value)
    if isinstance(bad, str) and len(bad) > 2:
        assert bad not in str(caught.value)


def test_within_joins_identifiers_under_the_resolved_base(tmp_path: Path) -> None:
    assert within(tmp_path, "models", "m", "v1") == tmp_path.resolve() / "models" / "m" / "v1"
    assert within(tmp_path) == tmp_path.resolve()


def test_within_refuses_a_symbolic_link_out_of_the_base(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "home" / "models").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePathError, match="escapes"):
        within(tmp_path / "home", "models", "m")
