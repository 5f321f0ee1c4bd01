"""Both sides keep their own copy of the Flower message names; they must agree."""

from coordinator.federation import wire as coordinator_wire
from trust_node.federation import wire as node_wire


def test_wire_names_agree() -> None:
    def names(module: object) -> dict[str, object]:
        return {k: v for k, v in vars(module).items() if k.isupper()}

    assert names(coordinator_wire) == names(node_wire)
    assert len(names(node_wire)) > 20
