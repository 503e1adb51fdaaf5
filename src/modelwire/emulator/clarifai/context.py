"""What the areas of the Clarifai emulator share: storage, credentials, files, workers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
    handler returns the response with `status` unset on success; failures raise ApiFailure."""

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
