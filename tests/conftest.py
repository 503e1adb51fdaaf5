"""This suite's fixtures, on top of the modelwire pytest plugin (modelwire.testing, active through
its pytest11 entry point: the session emulator, clients, fault clean-up come from there): test
images, the emulator configured for them, and `client`, which runs each functional test against
both ClavataClient and AsyncClavataClient."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

from modelwire.clarifai import User
from modelwire.clavata import AsyncClavataClient, ClavataClient
from modelwire.emulator import Emulator
from modelwire.emulator.clavata.policy import PolicyBook
from modelwire.testing import Backend

API_KEY = "test-key-0123456789"


def make_image(fmt: str, color: tuple[int, int, int] = (200, 30, 30), size: int = 16) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture(scope="session")
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="session")
def images() -> dict[str, bytes]:
    png = make_image("PNG")
    return {
        "png": png,
        "jpeg": make_image("JPEG"),
        "webp": make_image("WEBP"),
        "gif": make_image("GIF"),
        "corrupt_png": png[: len(png) // 2],
        # A harmless image standing in for a known-CSAM hash (the emulator's blocklist).
        "blocked": make_image("PNG", color=(1, 2, 3)),
    }


@pytest.fixture(scope="session")
def modelwire_emulator_options(
    modelwire_emulator_options: dict[str, Any], images: dict[str, bytes]
) -> dict[str, Any]:
    """The plugin's session emulator (modelwire.testing), as this suite needs it: our key, the
    test image on the blocklist, fast webhook retries, file:// content only under the temp dir."""
    blocked = hashlib.md5(images["blocked"]).hexdigest()
    return {
        **modelwire_emulator_options,
        "api_key": API_KEY,
        "clavata_policies": PolicyBook.default().merged(PolicyBook([], blocklist=[blocked])),
        "webhook_backoff": 0.05,
        "content_dirs": [tempfile.gettempdir()],
    }


@pytest.fixture(scope="session")
def emulator(modelwire_emulator: Emulator) -> Emulator:
    """The plugin's session emulator, by the name this suite's tests use (its faults are cleared
    after every test by the plugin)."""
    return modelwire_emulator


@pytest.fixture
def sync_client(clavata_client: ClavataClient) -> ClavataClient:
    return clavata_client


class LoopThread:
    """An event loop on a private thread, for driving async code from sync tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class _DrivenIterator:
    """A sync view of an async iterator (AsyncStream or AsyncPager)."""

    def __init__(self, loop: LoopThread, source: Any) -> None:
        self._loop = loop
        self._source = source
        self._iter = source.__aiter__()

    def __iter__(self) -> _DrivenIterator:
        return self

    def __next__(self) -> Any:
        async def step() -> Any:
            try:
                return True, await self._iter.__anext__()
            except StopAsyncIteration:
                return False, None

        more, item = self._loop.run(step())
        if not more:
            raise StopIteration
        return item

    def close(self) -> None:
        if hasattr(self._source, "aclose"):
            self._loop.run(self._source.aclose())

    def __enter__(self) -> _DrivenIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)


class _DrivenPager:
    def __init__(self, loop: LoopThread, pager: Any) -> None:
        self._loop = loop
        self._pager = pager

    def __iter__(self) -> _DrivenIterator:
        return _DrivenIterator(self._loop, self._pager)

    def pages(self) -> _DrivenIterator:
        return _DrivenIterator(self._loop, _AsyncIterable(self._pager.pages))

    @property
    def calls(self) -> int:
        return int(self._pager.calls)


class _AsyncIterable:
    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory

    def __aiter__(self) -> Any:
        return self._factory()


class DrivenAsyncClient:
    """AsyncClavataClient driven from sync test code: the real async client, real aio channel."""

    def __init__(self, client: AsyncClavataClient) -> None:
        self._loop = LoopThread()
        self.client = client
        self.beta = self

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if name == "evaluate":
            return lambda *a, **k: _DrivenIterator(self._loop, attr(*a, **k))
        if name == "list_jobs":
            return lambda *a, **k: _DrivenPager(self._loop, attr(*a, **k))
        if asyncio.iscoroutinefunction(attr):
            return lambda *a, **k: self._loop.run(attr(*a, **k))
        return attr

    def close(self) -> None:
        self._loop.run(self.client.close())
        self._loop.stop()


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, modelwire_backend: Backend) -> Iterator[Any]:
    """The plugin's clavata_client, or AsyncClavataClient driven through a private loop: the same
    tests for both."""
    if request.param == "sync":
        yield request.getfixturevalue("clavata_client")
        return
    driven = DrivenAsyncClient(AsyncClavataClient(**modelwire_backend.clavata_kwargs()))
    try:
        yield driven
    finally:
        driven.close()


@pytest.fixture
def make_client(request: pytest.FixtureRequest, modelwire_backend: Backend) -> Iterator[Callable[..., Any]]:
    """Build extra clients (of the kind `client` is) with other options; closed after the test."""
    made: list[Any] = []
    kind = request.node.callspec.params.get("client", "sync") if hasattr(request.node, "callspec") else "sync"

    def build(**kwargs: Any) -> Any:
        kwargs = {**modelwire_backend.clavata_kwargs(), **kwargs}
        built: Any = (
            ClavataClient(**kwargs) if kind == "sync" else DrivenAsyncClient(AsyncClavataClient(**kwargs))
        )
        made.append(built)
        return built

    yield build
    for built in made:
        built.close()


# -- Clarifai: the session emulator as a Clarifai endpoint, and the plugin's User on it ----------


@pytest.fixture
def base_url(modelwire_backend: Backend) -> str:
    return str(modelwire_backend.clarifai_kwargs()["base_url"])


@pytest.fixture
def user(clarifai_user: User) -> User:
    return clarifai_user
