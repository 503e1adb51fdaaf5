"""What a pickled client takes along beyond its configuration: the caller's own objects
(interceptors, hooks, trace configs) when they pickle, else a clear error rather than a copy that
silently lost them. Channels and sessions never travel: the copy connects anew."""

from __future__ import annotations

import pickle
from typing import TypeVar

from modelwire._core.errors import UsageError

T = TypeVar("T")


def carried(value: T, *, client: str, what: str) -> T:
    """`value`, checked to pickle (a pickled `client` carries it); UsageError naming `what` if not."""
    if not value:  # nothing given: nothing to check
        return value
    try:
        pickle.dumps(value)
    except Exception as exc:
        raise UsageError(
            f"a {client} built with {what} cannot be pickled: they do not pickle "
            f"({type(exc).__name__}: {exc}). Build the client where it is used (e.g. in a Ray "
            f"operator's constructor, or with the operator's client_kwargs=), or give it {what} "
            "that pickle; for tracing, call modelwire.otel.instrument() where the client is used"
        ) from None
    return value
