"""Small helpers shared by the Clarifai tests."""

from __future__ import annotations

from typing import Any

from modelwire.emulator import Emulator


def calls(emulator: Emulator, method: str) -> int:
    return len(emulator.calls.records(method))


def texts(n: int, prefix: str = "note") -> list[str]:
    return [f"{prefix} number {i}" for i in range(n)]


def ids_of(items: Any) -> list[str]:
    return [i.id for i in items]
