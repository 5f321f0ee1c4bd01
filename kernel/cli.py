"""The command-line kit every ``gcdt-*`` command is built with.

Operators and scripts meet three commands written by three teams; they should not learn
three dialects. So the options that name a party's state (``--home``, ``--database-url``)
and ask for machine output (``--json``) are declared once here, settings are resolved
once here, and one runner turns a package's own error into the one shape a failure has:
``error: <message>`` on stderr and exit code 1, or under ``--json`` the error as JSON on
stdout (``{"error": <class>, "message": ..., <details>}``), where the script is reading.
Anything that is not the package's error is a bug and is left to crash with its trace.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from kernel.settings import Settings, load_settings

T = TypeVar("T")

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="GCDT_HOME", help="State directory (GCDT_HOME)."),
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="GCDT_DATABASE_URL",
        help="SQLAlchemy URL of the party's database (default: SQLite file inside GCDT_HOME).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

Details = Callable[[BaseException], Mapping[str, Any]]


def make_app(name: str, help: str) -> typer.Typer:
    """A command's root app: no shell-completion install verbs, help when called bare."""
    return typer.Typer(name=name, help=help, no_args_is_help=True, add_completion=False)


def settings(
    home: Path | None = None, database_url: str | None = None, *, create: bool = False
) -> Settings:
    """The party's settings: explicit options over ``GCDT_*`` variables over defaults.

    ``create`` makes the state directory (owner-only) for verbs that write into it.
    """
    resolved = load_settings(home=home, database_url=database_url)
    if create:
        resolved.ensure_home()
    return resolved


def print_json(data: object) -> None:
    """How every ``--json`` output is written: indented, values JSON cannot hold (dates, paths)
    as strings, and NaN or infinity refused, so a script never reads invalid JSON.
    """
    sys.stdout.write(json.dumps(data, indent=2, default=str, allow_nan=False) + "\n")


def print_result(result: Mapping[str, Any], *, as_json: bool, title: str) -> None:
    """A verb's result: the dict as JSON, or a title line and one ``key: value`` per line."""
    if as_json:
        print_json(result)
        return
    typer.echo(title)
    for key, value in result.items():
        typer.echo(f"  {key}: {value}")


def fail(
    error: BaseException, *, as_json: bool = False, details: Details | None = None
) -> NoReturn:
    """Render ``error`` for an operator (stderr) or a script (JSON on stdout); exit 1."""
    if as_json:
        payload: dict[str, Any] = {"error": type(error).__name__, "message": str(error)}
        if details is not None:
            payload.update(details(error))
        print_json(payload)
    else:
        typer.echo(f"{typer.style('error:', fg='red', bold=True)} {error}", err=True)
    raise typer.Exit(code=1)


class Runner:
    """Runs a verb's action; the package's errors (``errors``) become :func:`fail`.

    ``details`` adds fields to the JSON form of an error (e.g. the rows an ingest refused).
    """

    def __init__(self, *errors: type[BaseException], details: Details | None = None) -> None:
        self.errors = errors
        self.details = details

    def __call__(
        self,
        action: Callable[[], T],
        *,
        as_json: bool = False,
        also: tuple[type[BaseException], ...] = (),
    ) -> T:
        """``action()``; ``also`` names further errors this verb expects (e.g. ``OSError``)."""
        try:
            return action()
        except (*self.errors, *also) as exc:
            fail(exc, as_json=as_json, details=self.details)
