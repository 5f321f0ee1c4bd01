"""The one Flower app bundle (FAB) of the trust, and the check every party runs on a FAB.

Why a fixed bundle: a FAB is what ``flwr run`` ships to the SuperLink and every SuperNode;
stock Flower unpacks it and imports the components its ``pyproject.toml`` names, from the
FAB's own files first. Whoever can submit a run (or a coordinator that wants to) could
therefore run code of their choosing on every node, beside its records and keys. In this
trust no party ever loads code from a FAB: each party runs its own installed component
(``trust_node``'s ClientApp, ``coordinator``'s ServerApp), and a FAB is data that must be
*exactly* this bundle, byte for byte in its files, or the task is refused before anything
of it is read further.

The bundle holds one file, ``pyproject.toml``, with the component names below and the
run configuration's keys with their defaults; each run's values travel as Flower's run
config overrides (``flwr run --run-config``), which are data. So the bundle, and its pin
:data:`BUNDLE_DIGEST`, are constant: the pin is the installed software's, on each party,
not something the coordinator or the trust policy (signed by the coordinator today) can
change.

What :func:`check_fab` refuses, each with its own reason:

* ``not_a_zip``: the FAB is not a ZIP archive;
* ``carries_files``: any member other than ``pyproject.toml`` and Flower's
  ``.info/CONTENT`` manifest (code, data, a module shadowing one of ours);
* ``bad_manifest``: a manifest that does not list exactly ``pyproject.toml`` with its
  SHA-256 and size;
* ``names_other_code``: components other than the two named here;
* ``differs_from_pin``: any other difference from the pinned bundle.
"""

from __future__ import annotations

import hashlib
import io
import json
import tomllib
import zipfile
from typing import Any, Final

from kernel.errors import KernelError

APP_NAME: Final = "gcdt-federation"
APP_VERSION: Final = "1.0.0"
PUBLISHER: Final = "gcdt"
SERVER_APP: Final = "coordinator.federation.server_app:app"
CLIENT_APP: Final = "trust_node.federation.client_app:app"

#: Each party's app runner takes its tasks from its own Flower Runtime API; Flower checks
#: an HMAC on this call with the secret in this file under ``GCDT_HOME/flower`` (0600).
ACQUIRE_TASK: Final = "/flwr.proto.Runtime/AcquireTask"
SUPEREXEC_SECRET_FILE: Final = "superexec.secret"  # noqa: S105 (a file name)

PYPROJECT: Final = "pyproject.toml"
MANIFEST: Final = ".info/CONTENT"  # Flower's FAB manifest: "path,sha256,size_bits" lines

#: Every run-config key the ServerApp reads, with a default of the type it must have
#: (Flower refuses an override of a key the bundle does not declare). The values of a run
#: are overrides; these defaults mirror ``coordinator.federation.config.FederationConfig``.
RUN_CONFIG_DEFAULTS: Final[dict[str, str | int | float]] = {
    "coordinator-home": "",
    "rounds": 3,
    "quorum": 2,
    "min-nodes": 2,
    "t": 2,
    "clip-norm": 1.0,
    "round-timeout": 120.0,
    "attest-timeout": 60.0,
    "connect-timeout": 60.0,
    "model-id": "gcdt-emission-factor",
    "seed": 0,
    "evaluation-set": "",
    "model-family": "network",
}


#: How much of a refused FAB's detail is kept (it is logged locally, never sent).
DETAIL_MAX: Final = 500


class AppBundleRefused(KernelError):
    """A FAB that is not the trust's bundle; ``reason`` is one word from the module doc."""

    def __init__(self, reason: str, detail: str) -> None:
        detail = detail[:DETAIL_MAX]  # the detail quotes the FAB: the submitter's text
        super().__init__(f"app bundle refused ({reason}): {detail}")
        self.reason = reason
        self.detail = detail


def _toml_value(value: str | int | float) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def pyproject_text() -> str:
    """The bundle's ``pyproject.toml``, the one file ``flwr run`` packs."""
    run_config = "\n".join(f"{k} = {_toml_value(v)}" for k, v in RUN_CONFIG_DEFAULTS.items())
    return (
        "[build-system]\n"
        'requires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n\n'
        "[project]\n"
        f'name = "{APP_NAME}"\n'
        f'version = "{APP_VERSION}"\n'
        'description = "Global Carbon Data Trust federated training"\n'
        'license = "Apache-2.0"\n'
        "dependencies = []\n\n"
        "[tool.hatch.build.targets.wheel]\n"
        'packages = ["."]\n\n'
        "[tool.flwr.app]\n"
        f'publisher = "{PUBLISHER}"\n\n'
        "[tool.flwr.app.components]\n"
        f'serverapp = "{SERVER_APP}"\n'
        f'clientapp = "{CLIENT_APP}"\n\n'
        "[tool.flwr.app.config]\n"
        f"{run_config}\n"
    )


def _canonical(config: dict[str, Any]) -> bytes:
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def _pinned_config() -> dict[str, Any]:
    return tomllib.loads(pyproject_text())


#: SHA-256 of the bundle's parsed ``pyproject.toml`` in canonical JSON. Flower rewrites
#: the file when it packs it (``tomli_w``), so the pin is over what it says, not its bytes.
BUNDLE_DIGEST: Final = hashlib.sha256(_canonical(_pinned_config())).hexdigest()


def _members(fab: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(fab)) as archive:
            names = archive.namelist()
            extra = sorted(set(names) - {PYPROJECT, MANIFEST})
            if extra or len(names) != len(set(names)):
                raise AppBundleRefused("carries_files", f"the FAB holds {sorted(names)}")
            return {name: archive.read(name) for name in names}
    except zipfile.BadZipFile as exc:
        raise AppBundleRefused("not_a_zip", "the FAB is not a ZIP archive") from exc


def check_fab(fab: bytes) -> str:
    """Refuse (:class:`AppBundleRefused`) any FAB but the pinned bundle; return its digest.

    Reads the archive in memory only; nothing of it is written to disk or imported.
    """
    members = _members(fab)
    if set(members) != {PYPROJECT, MANIFEST}:
        raise AppBundleRefused("carries_files", f"the FAB holds {sorted(members)}")
    pyproject = members[PYPROJECT]
    expected_manifest = f"{PYPROJECT},{hashlib.sha256(pyproject).hexdigest()},{len(pyproject) * 8}"
    if members[MANIFEST].decode("utf-8", "replace").strip() != expected_manifest:
        raise AppBundleRefused("bad_manifest", "the manifest does not list pyproject.toml alone")
    try:
        config = tomllib.loads(pyproject.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AppBundleRefused("differs_from_pin", "pyproject.toml is not TOML") from exc
    components = config.get("tool", {}).get("flwr", {}).get("app", {}).get("components")
    if components != {"serverapp": SERVER_APP, "clientapp": CLIENT_APP}:
        raise AppBundleRefused("names_other_code", f"components {components!r}")
    digest = hashlib.sha256(_canonical(config)).hexdigest()
    if digest != BUNDLE_DIGEST:
        raise AppBundleRefused("differs_from_pin", f"digest {digest} is not {BUNDLE_DIGEST}")
    return digest
