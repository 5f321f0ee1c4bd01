"""The coordinator's model registry: every published model, its card, hash and log entry."""

from coordinator.registry.store import ModelRegistry, RegisteredModel, published_models

__all__ = ["ModelRegistry", "RegisteredModel", "published_models"]
