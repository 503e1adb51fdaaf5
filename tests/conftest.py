"""Shared fixtures: one real emulator on a loopback port for the session, test images, and
`client`, which runs each functional test against both ClavataClient and AsyncClavataClient."""

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
def emulator(images: dict[str, bytes]) -> Iterator[Emulator]:
    blocked = hashlib.md5(images["blocked"]).hexdigest()
    book = PolicyBook.default().merged(PolicyBook([], blocklist=[blocked]))
    # Tests (and examples) stage file:// content in the temporary directory: allow only that.
    with Emulator(
        api_key=API_KEY,
        clavata_policies=book,
        webhook_backoff=0.05,
        http_port=0,
        content_dirs=[tempfile.gettempdir()],
    ) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _clean_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").faults.clear()


@pytest.fixture
def sync_client(emulator: Emulator) -> Iterator[ClavataClient]:
    with ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=API_KEY) as client:
        yield client


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
def client(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[Any]:
    """ClavataClient, or AsyncClavataClient driven through a private loop: same tests for both."""
    if request.param == "sync":
        with ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=API_KEY) as sync:
            yield sync
        return
    driven = DrivenAsyncClient(AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=API_KEY))
    try:
        yield driven
    finally:
        driven.close()


@pytest.fixture
def make_client(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[Callable[..., Any]]:
    """Build extra clients (of the kind `client` is) with other options; closed after the test."""
    made: list[Any] = []
    kind = request.node.callspec.params.get("client", "sync") if hasattr(request.node, "callspec") else "sync"

    def build(**kwargs: Any) -> Any:
        kwargs = {"host": "127.0.0.1", "port": emulator.port, "auth_token": API_KEY, **kwargs}
        built: Any = (
            ClavataClient(**kwargs) if kind == "sync" else DrivenAsyncClient(AsyncClavataClient(**kwargs))
        )
        made.append(built)
        return built

    yield build
    for built in made:
        built.close()


# -- Clarifai: the session emulator as a Clarifai endpoint, and our User on it -------------------


@pytest.fixture
def base_url(emulator: Emulator) -> str:
    return f"http://127.0.0.1:{emulator.port}"


@pytest.fixture
def user(emulator: Emulator, base_url: str, api_key: str) -> Iterator[User]:
    with User(user_id=emulator.user_id, base_url=base_url, pat=api_key) as client:
        yield client
