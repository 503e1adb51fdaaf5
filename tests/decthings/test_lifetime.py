"""Client lifetime: a client nobody keeps or closes, a dead I/O thread, forked and spawned children,
and a clean interpreter exit. Every blocking step here is bounded, so a regression fails instead
of hanging."""

from __future__ import annotations

import asyncio
import functools
import gc
import io
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelwire._core import errors as core
from modelwire.decthings import ClientClosedError, DecthingsClient, DecthingsClientSync
from modelwire.emulator import Emulator

HERE = Path(__file__).resolve().parent


def _bounded(fn: Callable[[], Any], seconds: float = 20.0) -> Any:
    """Run `fn` on a daemon thread; fail (instead of hanging the suite) if it does not finish."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still blocked after {seconds}s"
    if "error" in box:
        raise box["error"]
    return box["value"]


# -- a client nobody keeps ------------------------------------------------------------------------


def test_a_sync_call_on_a_client_nobody_keeps_returns(emulator: Emulator, api_key: str) -> None:
    url = emulator.decthings_url

    def call() -> Any:
        # The client is garbage as soon as `.model` is read: the call must still complete.
        return DecthingsClientSync(api_key=api_key, http_server_address=url).model.get_models({}, timeout=10)

    assert _bounded(call)["total"] >= 3


def test_an_async_call_on_a_client_nobody_keeps_returns(emulator: Emulator, api_key: str) -> None:
    url = emulator.decthings_url

    async def call() -> Any:
        return await DecthingsClient(api_key=api_key, http_server_address=url).model.get_models(
            {}, timeout=10
        )

    assert _bounded(lambda: asyncio.run(call()))["total"] >= 3


def test_a_namespace_outlives_its_client(emulator: Emulator, api_key: str) -> None:
    model = DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url).model
    gc.collect()
    assert _bounded(functools.partial(model.get_models, {}, timeout=10))["total"] >= 3
    engine = model._invoker._engine
    del model
    gc.collect()
    assert engine.closed  # the last reference gone: the connections were released


def test_a_call_on_a_stopped_io_thread_raises_instead_of_hanging(make_dt: Callable[..., Any]) -> None:
    client = make_dt().client
    client.model.get_models({})
    client._invoker._box.io.stop()  # as if the thread died
    with pytest.raises(ClientClosedError, match="I/O thread is not running"):
        _bounded(lambda: client.model.get_models({}, timeout=2), 10)


def test_a_sync_call_honours_its_timeout_when_the_io_loop_is_stuck(make_dt: Callable[..., Any]) -> None:
    client = make_dt().client
    client.model.get_models({})
    loop = client._invoker._box.io.loop
    loop.call_soon_threadsafe(time.sleep, 2)  # a listener that blocks the loop, say
    started = time.monotonic()
    with pytest.raises(core.DeadlineExceededError):
        _bounded(lambda: client.model.get_models({}, timeout=0.5), 10)
    assert time.monotonic() - started < 3


# -- fork and spawn -------------------------------------------------------------------------------


def _capture_stderr() -> io.StringIO:
    buf = io.StringIO()
    sys.stderr = buf
    return buf


def _child_sync_call(client: DecthingsClientSync, results: Any) -> None:
    try:
        results.put(("ok", client.model.get_models({}, timeout=10)["total"]))
        client.close()
    except BaseException as exc:
        results.put(("error", repr(exc)))


def _child_sync_close_only(client: DecthingsClientSync, results: Any) -> None:
    try:
        client.close()  # must not touch the parent's connections
        gc.collect()
        results.put(("ok", 0))
    except BaseException as exc:
        results.put(("error", repr(exc)))


def _child_async_call(client: DecthingsClient, results: Any) -> None:
    err = _capture_stderr()
    try:
        total = asyncio.run(client.model.get_models({}, timeout=10))["total"]
        del client
        gc.collect()
        results.put(("ok", total, err.getvalue()))
    except BaseException as exc:
        results.put(("error", repr(exc), err.getvalue()))


def _child_builds_its_own(kind: str, url: str, key: str, results: Any) -> None:
    try:
        if kind == "sync":
            with DecthingsClientSync(api_key=key, http_server_address=url) as client:
                total = client.model.get_models({}, timeout=10)["total"]
        else:

            async def call() -> int:
                async with DecthingsClient(api_key=key, http_server_address=url) as aclient:
                    return int((await aclient.model.get_models({}, timeout=10))["total"])

            total = asyncio.run(call())
        results.put(("ok", total))
    except BaseException as exc:
        results.put(("error", repr(exc)))


def _run_child(method: str, target: Callable[..., None], *args: Any) -> tuple[Any, ...]:
    ctx = multiprocessing.get_context(method)
    results = ctx.Queue()
    child = ctx.Process(target=target, args=(*args, results), daemon=True)
    child.start()
    try:
        outcome: tuple[Any, ...] = results.get(timeout=30)
    except Exception:
        outcome = ("no answer from the child within 30s",)
    child.join(10)
    if child.is_alive():
        child.kill()
        child.join(5)
    assert outcome[0] == "ok", outcome
    assert child.exitcode == 0, child.exitcode
    return outcome


fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@fork_only
def test_a_sync_client_works_in_a_forked_child(make_dt: Callable[..., Any]) -> None:
    client = make_dt().client
    before = client.model.get_models({})["total"]  # the parent's loop, thread and connections exist
    assert _run_child("fork", _child_sync_call, client)[1] == before
    # The child used and closed its own connections, never the parent's.
    assert _bounded(lambda: client.model.get_models({}, timeout=10))["total"] == before


@fork_only
def test_closing_a_sync_client_in_a_forked_child_leaves_the_parents_connections_alone(
    make_dt: Callable[..., Any],
) -> None:
    client = make_dt().client
    client.model.get_models({})
    _run_child("fork", _child_sync_close_only, client)
    assert _bounded(lambda: client.model.get_models({}, timeout=5))["total"] >= 3
    assert not client.closed


@fork_only
def test_an_async_client_works_in_a_forked_child_without_warnings(emulator: Emulator, api_key: str) -> None:
    client = DecthingsClient(api_key=api_key, http_server_address=emulator.decthings_url)
    loop = asyncio.new_event_loop()  # kept open in the parent, so the child inherits a live session
    try:
        before = loop.run_until_complete(client.model.get_models({}))["total"]
        outcome = _run_child("fork", _child_async_call, client)
        assert outcome[1] == before
        assert "Unclosed" not in outcome[2] and "Error" not in outcome[2], outcome[2]
        assert loop.run_until_complete(client.model.get_models({}, timeout=5))["total"] == before
        loop.run_until_complete(client.aclose())
    finally:
        loop.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_spawned_child_builds_its_own_client(kind: str, emulator: Emulator, api_key: str) -> None:
    _run_child("spawn", _child_builds_its_own, kind, emulator.decthings_url, api_key)


# -- a clean exit ---------------------------------------------------------------------------------

_EXIT_SCRIPTS = {
    "sync, never closed": """
from modelwire.decthings import DecthingsClientSync
client = DecthingsClientSync()
client.model.get_models({})
""",
    "sync, not kept": """
from modelwire.decthings import DecthingsClientSync
DecthingsClientSync().model.get_models({}, timeout=10)
""",
    "sync, a subscription open at exit": """
from modelwire.decthings import DecthingsClientSync
from test_decthings_client import _start_training
client = DecthingsClientSync()
_, session = _start_training(client)
client.model.subscribe_to_events({"trainingSessionId": session})
assert client.subscriptions
""",
    "async, never closed, inside main": """
import asyncio
from modelwire.decthings import DecthingsClient
async def main():
    client = DecthingsClient()
    await client.model.get_models({})
asyncio.run(main())
""",
    "async, never closed, module level, two runs": """
import asyncio
from modelwire.decthings import DecthingsClient
client = DecthingsClient()
async def main():
    await client.model.get_models({})
asyncio.run(main())
asyncio.run(main())
""",
    "async, closed with close() after the loop ended": """
import asyncio
from modelwire.decthings import DecthingsClient
client = DecthingsClient()
asyncio.run(client.model.get_models({}))
client.close()
""",
    "published shape, sync, not kept": """
from modelwire.decthings.client_sync import DecthingsClientSync
res, err = DecthingsClientSync().model.get_models({})
assert err is None and res["models"]
""",
    "published shape, async, never closed, as the seed writes it": """
import asyncio
from modelwire.decthings.client import DecthingsClient
client = DecthingsClient()
async def main():
    res, err = await client.model.get_models({})
    assert err is None and res["models"]
asyncio.run(main())
""",
}


@pytest.mark.parametrize("name", sorted(_EXIT_SCRIPTS))
def test_an_unclosed_client_exits_without_warnings(name: str, emulator: Emulator) -> None:
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, **emulator.client_env(), "PYTHONPATH": path}
    # -X dev and -W always show even ResourceWarnings (unclosed sockets and transports).
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "always", "-c", _EXIT_SCRIPTS[name] + "\nprint('done')\n"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip() == "done", result.stderr[-3000:]
    for text in ("Unclosed", "unclosed", "Warning", "Task was destroyed", "Exception ignored", "Traceback"):
        assert text not in result.stderr, result.stderr[-3000:]
