"""What the generated namespace classes call: one `call(spec, params, timeout)` per client kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from modelwire.decthings._engine import MethodSpec


class AsyncInvoker(Protocol):
    async def call(
        self, spec: MethodSpec, params: Mapping[str, Any] | None, timeout: float | None
    ) -> Any: ...


class SyncInvoker(Protocol):
    def call(self, spec: MethodSpec, params: Mapping[str, Any] | None, timeout: float | None) -> Any: ...
