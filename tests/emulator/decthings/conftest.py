"""A Decthings emulator on a loopback port per test module, and raw wire clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import aiohttp
import pytest
from decthings_wire import KEY, Http, Ws

from modelwire.emulator import Emulator


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_key=KEY, http_port=0, decthings_training_step_delay=0.02) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emu" in request.fixturenames:
        request.getfixturevalue("emu").faults.clear()


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[Http]:
    async with aiohttp.ClientSession() as session:
        yield Http(session, emu.decthings_url)


@pytest.fixture
async def ws_connect(emu: Emulator) -> AsyncIterator[Callable[[], Awaitable[Ws]]]:
    async with aiohttp.ClientSession() as session:
        opened: list[Ws] = []

        async def connect() -> Ws:
            client = Ws(await session.ws_connect(emu.decthings_ws_url))
            opened.append(client)
            return client

        yield connect
        for client in opened:
            await client.close()
