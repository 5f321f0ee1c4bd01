"""What the door tests share: a node home, the real ClientApp, and what leaves it.

:func:`leave` runs the node's real ClientApp (with its egress mod) on one coordinator
message and returns the reply exactly as the node's runtime would send it: where the
ClientApp raises, Flower's ``flwr-clientapp`` turns the exception into an error reply
holding the exception's type and text (``flwr.supernode.runtime.run_clientapp``), so
this helper does the same.
"""

from __future__ import annotations

import time
from pathlib import Path

from flwr.app import Context, Error, Message, Metadata, RecordDict

from trust_node.federation.client_app import HOME_KEY, build_client_app


def message_to(content: RecordDict, message_type: str) -> Message:
    """A coordinator message as it reaches the node's ClientApp."""
    metadata = Metadata(
        run_id=1,
        message_id="m" * 64,
        src_node_id=0,
        dst_node_id=1,
        reply_to_message_id="",
        group_id="",
        created_at=time.time(),
        ttl=600.0,
        message_type=message_type,
    )
    message: Message = Message(content=content, metadata=metadata)  # type: ignore[call-overload]
    return message


def leave(home: Path, message: Message) -> Message:
    """The reply the node sends for ``message`` (see the module docstring)."""
    app = build_client_app()
    context = Context(
        run_id=1, node_id=1, node_config={HOME_KEY: str(home)}, state=RecordDict(), run_config={}
    )
    try:
        return app(message=message, context=context)
    except Exception as ex:
        reason = str(type(ex)) + ":<'" + str(ex) + "'>"
        return Message(Error(code=2, reason=reason), reply_to=message)


def files_outside(root: Path, home: Path) -> set[Path]:
    """Every path under ``root`` that is not ``home`` or under it."""
    home = home.resolve()
    return {p for p in root.resolve().rglob("*") if p != home and home not in p.parents}
