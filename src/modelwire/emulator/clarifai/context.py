"""What the areas of the Clarifai emulator share: storage, credentials, files, workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from modelwire.emulator.clarifai.auth import Caller, KeyRing, Scope
from modelwire.emulator.clarifai.content import Files, Hosting
from modelwire.emulator.clarifai.records import Records

Handler = Callable[[Caller, Any], Message]


@dataclass(frozen=True)
class Route:
    """How one RPC is served: who may call it (`scope`) and the function that answers it. The
    handler returns the response with `status` unset on success; failures raise ApiFailure.
    (Which RPCs also read user clarifai's public resources is `public.PUBLIC_READS`.)"""

    scope: Scope
    handler: Handler


@dataclass
class Context:
    records: Records
    keys: KeyRing
    files: Files
    hosting: Hosting
    workers: ThreadPoolExecutor  # background work: input processing and exports
    closed: threading.Event


# The monotonic time by which the RPC being served must answer (None: the client set no deadline).
CALL_DEADLINE: ContextVar[float | None] = ContextVar("clarifai_call_deadline", default=None)
# The metadata of the RPC being served (handlers that answer about the credentials themselves).
CALL_METADATA: ContextVar[Mapping[str, str]] = ContextVar("clarifai_call_metadata", default={})  # noqa: B039
DEADLINE_MARGIN = 0.1  # answer this long before the client's deadline, so it still gets the answer


def time_left(cap: float) -> float:
    """How long a handler may still wait: at most `cap`, and within the client's deadline."""
    deadline = CALL_DEADLINE.get()
    if deadline is None:
        return cap
    return max(0.0, min(cap, deadline - DEADLINE_MARGIN - time.monotonic()))
