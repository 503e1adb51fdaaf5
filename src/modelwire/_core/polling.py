"""Waiting for server-side work (training, evaluation, exports): poll with doubling delays.

The first poll comes after `first_delay` (such work never finishes at once), delays double up to
`max_delay`, and the whole wait is bounded by `timeout`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(
    fetch: Callable[[], T],
    finished: Callable[[T], bool],
    *,
    timeout: float,
    on_timeout: Callable[[T, float], Exception],
    first_delay: float = 0.05,
    max_delay: float = 2.0,
) -> T:
    """`fetch()` until `finished(result)`; raises `on_timeout(last, waited)` when out of time."""
    start = time.monotonic()
    delay = first_delay
    while True:
        result = fetch()
        if finished(result):
            return result
        waited = time.monotonic() - start
        if waited + delay > timeout:
            raise on_timeout(result, waited)
        time.sleep(delay)
        delay = min(delay * 2, max_delay)
