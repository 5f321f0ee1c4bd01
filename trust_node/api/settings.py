"""The node API's one settings object: the party's ``Settings`` plus API host, port, limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from kernel.settings import Settings

MiB = 1024 * 1024


class NodeApiSettings(Settings):
    """Also read from ``GCDT_API_HOST``, ``GCDT_API_PORT``, ``GCDT_MAX_UPLOAD_BYTES``."""

    api_host: str = Field(default="127.0.0.1", description="Interface the API listens on.")
    api_port: int = Field(default=8080, ge=1, le=65535, description="TCP port of the API.")
    max_upload_bytes: int = Field(
        default=20 * MiB, ge=1, description="Largest upload accepted (413 beyond)."
    )


def load_api_settings(
    home: Path | str | None = None, database_url: str | None = None, **overrides: object
) -> NodeApiSettings:
    """The API settings: environment first, then the explicit arguments given (not None)."""
    settings = NodeApiSettings()
    updates: dict[str, object] = {k: v for k, v in overrides.items() if v is not None}
    if home is not None:
        updates["home"] = Path(home)
    if database_url is not None:
        updates["database_url_override"] = database_url
    return settings.model_copy(update=updates) if updates else settings
