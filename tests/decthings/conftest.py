"""`dt`: every Decthings client test runs against DecthingsClientSync and DecthingsClient (driven
from a private loop), both talking to the session emulator's Decthings server over loopback (the
modelwire pytest plugin's emulator and backend: modelwire.testing)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from modelwire.decthings import DecthingsClient, DecthingsClientSync
from modelwire.decthings._clients import _LoopThread as LoopThread
from modelwire.testing import Backend

NAMESPACES = (
    "dataset",
    "debug",
    "fs",
    "language",
    "model",
    "persistent_launcher",
    "spawned",
    "team",
    "terminal",
    "user",
)


class _DrivenNamespace:
    def __init__(self, loop: LoopThread, namespace: Any) -> None:
        self._loop = loop
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._namespace, name)
        assert asyncio.iscoroutinefunction(method), name
        return lambda *a, **k: self._loop.run(method(*a, **k))


class DrivenDecthings:
    """The async DecthingsClient, its coroutines run on a private loop so sync tests can drive it.
    Like DecthingsClientSync, its events arrive on that loop's thread."""

    def __init__(self, client: DecthingsClient) -> None:
        self.loop = LoopThread()
        self.client = client
        self.kind = "async"

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        return _DrivenNamespace(self.loop, attr) if name in NAMESPACES else attr

    @property
    def engine(self) -> Any:
        return self.client._engine

    def close(self) -> None:
        self.loop.run(self.client.aclose())
        self.loop.stop()


class SyncDecthings:
    def __init__(self, client: DecthingsClientSync) -> None:
        self.client = client
        self.kind = "sync"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    @property
    def engine(self) -> Any:
        return self.client._engine

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def make_dt(request: pytest.FixtureRequest, modelwire_backend: Backend) -> Iterator[Callable[..., Any]]:
    """Build clients of the kind the test is parametrized with (sync by default), on the plugin's
    backend (the session emulator); keyword arguments override its api_key / server addresses."""
    made: list[Any] = []
    kind = request.node.callspec.params.get("dt", "sync") if hasattr(request.node, "callspec") else "sync"

    def build(**kwargs: Any) -> Any:
        kwargs = {**modelwire_backend.decthings_kwargs(), **kwargs}
        built = (
            SyncDecthings(DecthingsClientSync(**kwargs))
            if kind == "sync"
            else DrivenDecthings(DecthingsClient(**kwargs))
        )
        made.append(built)
        return built

    yield build
    for built in made:
        built.close()


@pytest.fixture(params=["sync", "async"])
def dt(request: pytest.FixtureRequest, make_dt: Callable[..., Any]) -> Any:
    return make_dt()
