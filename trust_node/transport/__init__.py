"""The node's side of the trust gRPC protocol: one serde module and the client."""
