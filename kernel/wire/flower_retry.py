"""Flower's HTTP retry, bounded, for the long-lived app runners on both sides.

Flower's invoker retries connection errors forever and, on 401, sends SIGINT to its own
process (``flwr.supercore.retry.http_retry``): right for one process per task, wrong for
a runner that serves every task of the party and must notice its stop signal.
"""

from __future__ import annotations

import httpx
from flwr.supercore.retry import RetryInvoker, make_simple_http_retry_invoker


def bounded_retry(max_tries: int | None, max_time_s: float | None) -> RetryInvoker:
    """Flower's HTTP retry with these bounds, giving up on 401 instead of Flower's answer."""
    invoker = make_simple_http_retry_invoker()
    flower_giveup = invoker.should_giveup

    def giveup(exc: Exception) -> bool:
        if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 401:
            return True
        return bool(flower_giveup(exc)) if flower_giveup is not None else False

    invoker.max_tries, invoker.max_time, invoker.should_giveup = max_tries, max_time_s, giveup
    return invoker
