"""The files of published models, kept by the coordinator and served to nodes.

What was published (the ``publication`` log entry and its row in ``publications``) is the
one publication store's (``coordinator.aggregation.publications``); the registry keeps a
model version's artifacts beside it and points at that log entry.

A model is registered once per (model id, version) with the files of its
``PublishedModel`` directory (safetensors weights + hashed JSON metadata, packed as one
JSON document of base64 files), its card and the index of the ``publication`` entry in
the transparency log. Nodes receive it in the ServerApp's final ``query.publish``
message; ``gcdt-coordinator`` can also export any version to a directory
(:meth:`ModelRegistry.export`), which ``PublishedModel.load`` verifies.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    LargeBinary,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.exc import IntegrityError

from coordinator.federation.errors import RegistryError
from coordinator.tables import metadata
from kernel import paths

published_models = Table(
    "published_models",
    metadata,
    Column("model_id", String(128), primary_key=True),
    Column("version", String(128), primary_key=True),
    Column("content_hash", String(80), nullable=False, unique=True),
    Column("log_index", BigInteger, nullable=False),
    Column("run", String(128), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("card", Text, nullable=False),
    Column("files", LargeBinary, nullable=False),
)


@dataclass(frozen=True)
class RegisteredModel:
    model_id: str
    version: str
    content_hash: str
    log_index: int
    run: str
    published_at: dt.datetime
    card: dict[str, Any]
    files: dict[str, bytes]


def _pack(files: dict[str, bytes]) -> bytes:
    return json.dumps({k: base64.b64encode(v).decode() for k, v in sorted(files.items())}).encode()


def _unpack(data: bytes) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in json.loads(data).items()}


class ModelRegistry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def register(
        self,
        *,
        model_id: str,
        version: str,
        content_hash: str,
        log_index: int,
        run: str,
        card: dict[str, Any],
        files: dict[str, bytes],
    ) -> RegisteredModel:
        row = RegisteredModel(
            model_id,
            version,
            content_hash,
            log_index,
            run,
            dt.datetime.now(dt.UTC),
            dict(card),
            dict(files),
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    published_models.insert().values(
                        model_id=model_id,
                        version=version,
                        content_hash=content_hash,
                        log_index=log_index,
                        run=run,
                        published_at=row.published_at,
                        card=json.dumps(card, sort_keys=True),
                        files=_pack(files),
                    )
                )
        except IntegrityError as exc:
            raise RegistryError(
                f"model {model_id} version {version} (or hash {content_hash}) is already "
                "registered; a published model is never replaced"
            ) from exc
        return row

    def get(self, model_id: str, version: str | None = None) -> RegisteredModel:
        query = select(published_models).where(published_models.c.model_id == model_id)
        if version is not None:
            query = query.where(published_models.c.version == version)
        query = query.order_by(published_models.c.published_at.desc())
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise RegistryError(
                f"no published model {model_id!r}" + (f" version {version!r}" if version else "")
            )
        return RegisteredModel(
            row.model_id,
            row.version,
            row.content_hash,
            row.log_index,
            row.run,
            row.published_at,
            json.loads(row.card),
            _unpack(row.files),
        )

    def list(self) -> list[tuple[str, str, str, int]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    published_models.c.model_id,
                    published_models.c.version,
                    published_models.c.content_hash,
                    published_models.c.log_index,
                ).order_by(published_models.c.published_at)
            ).all()
        return [(r[0], r[1], r[2], int(r[3])) for r in rows]

    def export(self, model_id: str, version: str | None, directory: Path) -> Path:
        model = self.get(model_id, version)
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in model.files.items():
            paths.within(directory, name).write_bytes(data)  # a stored name is not a path
        return directory
