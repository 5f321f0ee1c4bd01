"""Reading what the portal publishes: its export (zip, directory or URL), bundle, models.

Input errors here mean the audit cannot start (:class:`ModelAuditInputError`, exit code 2);
a model whose files load but do not verify is a *finding* instead, reported into the
:class:`~governance.audit_models.report.ModelReport`, so the other checks still run.
"""

from __future__ import annotations

import io
import json
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from governance.audit_models.report import ModelReport
from governance.errors import GovernanceError


class ModelAuditInputError(GovernanceError):
    """The export, portal or model files cannot be read at all (exit code 2)."""


@contextmanager
def open_export(source: Path | None, portal: str | None) -> Iterator[Path]:
    """A directory holding the export, from a zip, a directory, or a portal URL."""
    if (source is None) == (portal is None):
        raise ModelAuditInputError("give exactly one of --export PATH or --portal URL")
    with tempfile.TemporaryDirectory(prefix="gcdt-audit-") as tmp:
        if portal is not None:
            url = portal.rstrip("/") + "/api/export"
            if not url.startswith(("http://", "https://")):
                raise ModelAuditInputError(f"--portal must be an http(s) URL, got {portal!r}")
            try:
                with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
                    data = response.read()
            except OSError as exc:
                raise ModelAuditInputError(f"cannot download {url}: {exc}") from exc
            _unzip(data, Path(tmp), url)
            yield Path(tmp)
        else:
            assert source is not None
            if source.is_dir():
                yield source
            elif source.is_file():
                _unzip(source.read_bytes(), Path(tmp), str(source))
                yield Path(tmp)
            else:
                raise ModelAuditInputError(f"{source}: no such export (zip or directory)")


def _unzip(data: bytes, target: Path, where: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                path = (target / name).resolve()
                if not path.is_relative_to(target.resolve()):
                    raise ModelAuditInputError(f"{where}: member {name!r} escapes the export")
            zf.extractall(target)  # every member checked above
    except zipfile.BadZipFile as exc:
        raise ModelAuditInputError(f"{where}: not a zip export: {exc}") from exc


def load_export(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(log bundle, manifest) of an export directory."""
    out = []
    for name in ("log-bundle.json", "manifest.json"):
        path = directory / name
        try:
            value = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelAuditInputError(f"{path}: unreadable: {exc}") from exc
        if not isinstance(value, dict):
            raise ModelAuditInputError(f"{path}: must be a JSON object")
        out.append(value)
    return out[0], out[1]


def model_directory(
    directory: Path, manifest: Mapping[str, Any], model_id: str, version: str | None
) -> tuple[Path, str]:
    """(directory, version) of the model in the export; the latest version if none given."""
    found = [
        m
        for m in manifest.get("models") or []
        if m.get("model_id") == model_id and (version is None or m.get("version") == version)
    ]
    if not found:
        what = f"{model_id}" + (f" version {version}" if version else "")
        raise ModelAuditInputError(f"the export has no model {what}")
    chosen = found[-1]
    path = (directory / str(chosen["path"])).resolve()
    if not path.is_relative_to(directory.resolve()) or not path.is_dir():
        raise ModelAuditInputError(f"the export's path for {model_id} is not a directory in it")
    return path, str(chosen["version"])


def bundle_entries(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The bundle's entries that are objects: malformed ones are ``verify_bundle``'s to report."""
    entries = bundle.get("entries")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def entry_payload(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry's payload, ``{}`` if it has none, so checks read fields without guarding."""
    payload = entry.get("payload")
    return payload if isinstance(payload, dict) else {}


def load_model(model_dir: Path, report: ModelReport) -> tuple[Any, dict[str, Any]]:
    """(PublishedModel or None, the model.json document as read)."""
    from open_models.errors import OpenModelsError
    from open_models.published import METADATA_FILE, PublishedModel

    try:
        document = json.loads((model_dir / METADATA_FILE).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelAuditInputError(f"{model_dir / METADATA_FILE}: unreadable: {exc}") from exc
    if not isinstance(document, dict):
        raise ModelAuditInputError(f"{model_dir / METADATA_FILE}: not a JSON object")
    try:
        return PublishedModel.load(model_dir), document
    except OpenModelsError as exc:
        report.fail("weights-hash", str(model_dir), f"the model files do not verify: {exc}")
        return None, document
