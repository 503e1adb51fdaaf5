"""gRPC clients across processes: a spawned child builds its own from the environment, against the
real emulator; every wait is bounded. (A forked child using its parent's clients is tested from a
client-only interpreter in tests/integrations/test_client_pickling.py: forking this process, which
hosts the session's emulator, makes gRPC skip its fork handlers.)"""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from modelwire.clavata import ClavataClient
from modelwire.emulator import Emulator


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


def test_a_spawned_child_builds_its_client_from_the_environment(
    emulator: Emulator, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAVATA_EMULATOR_HOST", f"127.0.0.1:{emulator.port}")
    monkeypatch.setenv("CLAVATA_API_KEY", api_key)
    status, jobs = _run("spawn", _spawned)
    assert status == "ok" and isinstance(jobs, int)
