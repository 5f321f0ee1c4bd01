"""One settings object for every party (node, coordinator, auditor).

It lives in the kernel because every layer reads it: a party's identity keys, policies,
privacy ledger, transparency log and raw records all sit under ``GCDT_HOME`` beside the
SQLite file. Every command resolves its state only through this object.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path("~/.gcdt")
DEFAULT_SQLITE_NAME = "gcdt.sqlite"
#: Where a party's Flower processes (SuperLink, SuperNode) keep their state, under GCDT_HOME.
FLOWER_DIR = "flower"


class Settings(BaseSettings):
    """A party's state location, read from ``GCDT_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="GCDT_", extra="ignore")

    home: Path = Field(default=DEFAULT_HOME, description="State directory (GCDT_HOME).")
    database_url_override: str | None = Field(
        default=None,
        validation_alias="GCDT_DATABASE_URL",
        description="SQLAlchemy URL; default: SQLite file inside GCDT_HOME.",
    )

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    @property
    def database_url(self) -> str:
        if self.database_url_override:
            return self.database_url_override
        return f"sqlite:///{self.home_dir / DEFAULT_SQLITE_NAME}"

    def ensure_home(self) -> Path:
        """Create the state directory owner-only: it holds keys and raw records."""
        home = self.home_dir
        home.mkdir(parents=True, exist_ok=True)
        os.chmod(home, 0o700)
        return home


def load_settings(home: Path | str | None = None, database_url: str | None = None) -> Settings:
    """Settings from the environment, with explicit CLI values taking precedence."""
    settings = Settings()
    updates: dict[str, object] = {}
    if home is not None:
        updates["home"] = Path(home)
    if database_url is not None:
        updates["database_url_override"] = database_url
    return settings.model_copy(update=updates) if updates else settings
