"""The node's side of federated training: Flower ClientApp, its CKKS/egress mod, and the
installation of published models. See ``coordinator/federation`` for the other side."""
