"""gRPC clients across processes: a forked child uses the parent's client; a spawned child builds
its own from the environment. Both against the real emulator; every wait is bounded."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from modelwire.clarifai import User
from modelwire.clavata import ClavataClient
from modelwire.emulator import Emulator


def _count_jobs(client: Any, queue: Any) -> None:
    try:
        queue.put(("ok", len(list(client.list_jobs(page_size=5)))))
    except BaseException as exc:  # reported to the parent, which fails the test with it
        queue.put(("error", repr(exc)))


def _count_apps(user: Any, queue: Any) -> None:
    try:
        queue.put(("ok", len(list(user.list_apps()))))
    except BaseException as exc:
        queue.put(("error", repr(exc)))


def _spawned(queue: Any) -> None:
    """A fresh interpreter: the client comes from the environment the parent set."""
    try:
        with ClavataClient.create() as client:
            queue.put(("ok", len(list(client.list_jobs(page_size=5)))))
    except BaseException as exc:
        queue.put(("error", repr(exc)))


def _run(method: str, target: Any, *args: Any) -> tuple[str, Any]:
    context = multiprocessing.get_context(method)
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail(f"the {method}ed child hung")
    assert child.exitcode == 0, f"the {method}ed child died with {child.exitcode}"
    result: tuple[str, Any] = queue.get(timeout=10)
    return result


def test_a_forked_child_uses_the_parents_clients(emulator: Emulator, api_key: str) -> None:
    with (
        ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key) as client,
        User(user_id=emulator.user_id, base_url=f"http://127.0.0.1:{emulator.port}", pat=api_key) as user,
    ):
        jobs, apps = len(list(client.list_jobs(page_size=5))), len(list(user.list_apps()))  # channels in use
        assert _run("fork", _count_jobs, client) == ("ok", jobs)
        assert _run("fork", _count_apps, user) == ("ok", apps)
        assert len(list(client.list_jobs(page_size=5))) == jobs  # the parent's client still works


def test_a_spawned_child_builds_its_client_from_the_environment(
    emulator: Emulator, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAVATA_EMULATOR_HOST", f"127.0.0.1:{emulator.port}")
    monkeypatch.setenv("CLAVATA_API_KEY", api_key)
    status, jobs = _run("spawn", _spawned)
    assert status == "ok" and isinstance(jobs, int)
