"""MODELWIRE_LOG: read once at import; attaches a stderr handler only when "modelwire" has none."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import grpc
import pytest

from modelwire._core import observe
from modelwire.emulator import Emulator

# A retried call (the retry policy is fast), then a stream, against the test session's emulator.
SCRIPT = textwrap.dedent(
    """
    import os
    from modelwire.clavata import ClavataClient, RetryPolicy

    port, key = int(os.environ["EMU_PORT"]), os.environ["EMU_KEY"]
    with ClavataClient(
        host="127.0.0.1", port=port, auth_token=key, retry=RetryPolicy(initial_backoff=0.01)
    ) as client:
        job = client.create_job(content="hi", policy_id="demo-policy", wait_for_completion=True)
        client.get_job(job.job_uuid)
        list(client.evaluate(content=["a", "b"], policy_id="demo-policy"))
        try:
            client.get_job("00000000-0000-0000-0000-000000000000")
        except Exception:
            pass
    print("done")
    """
)


def _run(
    emulator: Emulator, api_key: str, level: str | None, prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != observe.ENV_VAR}
    env.update(EMU_PORT=str(emulator.port), EMU_KEY=api_key)
    if level is not None:
        env[observe.ENV_VAR] = level
    return subprocess.run(
        [sys.executable, "-c", prelude + SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_debug_logs_every_call_to_stderr(emulator: Emulator, api_key: str) -> None:
    run = _run(emulator, api_key, "debug")
    assert run.stdout.strip() == "done"
    err = run.stderr
    assert "DEBUG modelwire.calls: clavata.gateway.v1.GatewayService/CreateJob attempt=1 status=OK" in err
    assert "DEBUG modelwire.calls: clavata.gateway.v1.GatewayService/GetJob attempt=1 status=OK" in err
    assert "status=NOT_FOUND" in err
    assert "stream end status=OK messages=2 attempts=1" in err
    assert api_key not in err


def test_info_logs_retries_but_not_calls(emulator: Emulator, api_key: str) -> None:
    emulator.faults.add("CreateJob", grpc.StatusCode.RESOURCE_EXHAUSTED, times=1, retry_delay=0.01)
    run = _run(emulator, api_key, "INFO")
    assert (
        "INFO modelwire.retry: clavata.gateway.v1.GatewayService/CreateJob attempt=1 failed with"
        in run.stderr
    )
    assert "modelwire.calls" not in run.stderr
    assert api_key not in run.stderr


def test_unset_or_warning_prints_nothing(emulator: Emulator, api_key: str) -> None:
    assert _run(emulator, api_key, None).stderr == ""
    assert _run(emulator, api_key, "warning").stderr == ""


def test_an_unknown_level_is_reported_and_ignored(emulator: Emulator, api_key: str) -> None:
    run = _run(emulator, api_key, "loud")
    assert (
        run.stderr.strip()
        == "modelwire: MODELWIRE_LOG='loud' is not one of debug, info, warning, error; ignored"
    )


def test_an_application_handler_is_kept(emulator: Emulator, api_key: str) -> None:
    """The application configured "modelwire" first: the variable sets the level, adds no handler."""
    prelude = textwrap.dedent(
        """
        import logging, sys
        mine = logging.StreamHandler(sys.stdout)
        mine.setFormatter(logging.Formatter("MINE %(name)s %(message)s"))
        logging.getLogger("modelwire").addHandler(mine)
        """
    )
    run = _run(emulator, api_key, "debug", prelude)
    assert "MINE modelwire.calls clavata.gateway.v1.GatewayService/GetJob attempt=1" in run.stdout
    assert run.stderr == ""


@pytest.fixture
def fresh_root() -> Iterator[logging.Logger]:
    """The "modelwire" logger's level and handlers, restored after the test."""
    level, handlers = observe.ROOT.level, list(observe.ROOT.handlers)
    observe.ROOT.handlers.clear()
    yield observe.ROOT
    observe.ROOT.setLevel(level)
    observe.ROOT.handlers[:] = handlers


def test_configure_from_env_in_process(fresh_root: logging.Logger) -> None:
    assert observe.configure_from_env({}) is None
    assert fresh_root.handlers == []
    assert observe.configure_from_env({"MODELWIRE_LOG": " Debug "}) == logging.DEBUG
    assert fresh_root.level == logging.DEBUG and len(fresh_root.handlers) == 1
    assert observe.configure_from_env({"MODELWIRE_LOG": "info"}) == logging.INFO
    assert len(fresh_root.handlers) == 1  # never a second handler
    assert observe.configure_from_env({"MODELWIRE_LOG": "off"}) is None
