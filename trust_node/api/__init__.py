"""The node's HTTP API (FastAPI): hosted tenants and operator routes."""

from trust_node.api.app import create_app
from trust_node.api.settings import NodeApiSettings, load_api_settings

__all__ = ["NodeApiSettings", "create_app", "load_api_settings"]
