"""DEBUG call logs and INFO retry logs, against the real emulator (sync and async clients)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc
import pytest
from obs_helpers import Captured

from modelwire._core import observe
from modelwire.clarifai import User
from modelwire.clavata import RetryPolicy
from modelwire.decthings import DecthingsClient, DecthingsClientSync
from modelwire.emulator import Emulator

FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.02)
GET_JOB = "clavata.gateway.v1.GatewayService/GetJob"
EVALUATE = "clavata.gateway.v1.GatewayService/Evaluate"


def _job(client: Any) -> Any:
    return client.create_job(content="hello", policy_id="demo-policy", wait_for_completion=True)


def test_a_unary_call_logs_one_attempt(client: Any, logged: Captured) -> None:
    job = _job(client)
    logged.clear()
    client.get_job(job.job_uuid)
    (line,) = logged.fields("attempt")
    assert line["logger"] == "modelwire.calls" and line["level"] == logging.DEBUG
    assert line["method"] == GET_JOB
    assert line["attempt"] == 1 and line["status"] == "OK"
    assert 0 < line["duration_ms"] < 60_000
    assert line["text"].startswith(f"{GET_JOB} attempt=1 status=OK duration=")
    assert not logged.fields("retry")


def test_a_retried_get_job_logs_each_attempt_and_retry(
    client: Any, make_client: Any, emulator: Emulator, logged: Captured
) -> None:
    retrying = make_client(retry=FAST.with_options(max_attempts=3))
    job = _job(retrying)
    emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=2)
    logged.clear()
    assert retrying.get_job(job.job_uuid).job_uuid == job.job_uuid

    attempts = logged.fields("attempt", GET_JOB)
    assert [(a["attempt"], a["status"]) for a in attempts] == [
        (1, "UNAVAILABLE"),
        (2, "UNAVAILABLE"),
        (3, "OK"),
    ]
    assert [a.get("error") for a in attempts] == ["UnavailableError", "UnavailableError", None]
    retries = logged.fields("retry", GET_JOB)
    assert [r["attempt"] for r in retries] == [1, 2]
    for retry in retries:
        assert retry["logger"] == "modelwire.retry" and retry["level"] == logging.INFO
        assert retry["status"] == "UNAVAILABLE" and retry["error"] == "UnavailableError"
        assert 0 <= retry["delay"] <= 0.02
        assert "failed with UNAVAILABLE (UnavailableError); retrying in" in retry["text"]


def test_a_call_that_gives_up_logs_its_last_attempt(
    client: Any, make_client: Any, emulator: Emulator, logged: Captured
) -> None:
    retrying = make_client(retry=FAST.with_options(max_attempts=2))
    emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=5)
    with pytest.raises(Exception, match="UNAVAILABLE"):
        retrying.get_job("00000000-0000-0000-0000-000000000000")
    assert [a["status"] for a in logged.fields("attempt", GET_JOB)] == ["UNAVAILABLE", "UNAVAILABLE"]
    assert len(logged.fields("retry", GET_JOB)) == 1


def test_a_stream_logs_at_open_and_end_not_per_message(client: Any, logged: Captured) -> None:
    contents = [f"message {i}" for i in range(5)]
    results = list(client.evaluate(content=contents, policy_id="demo-policy"))
    assert len(results) == 5
    lines = logged.fields(method=EVALUATE)
    assert [line["event"] for line in lines] == ["stream_open", "stream_end"]
    opened, ended = lines
    assert opened["attempt"] == 1
    assert ended["status"] == "OK" and ended["messages"] == 5 and ended["attempts"] == 1
    assert ended["duration_ms"] > 0
    assert "stream end status=OK messages=5 attempts=1" in ended["text"]


def test_a_stream_left_early_logs_cancelled(client: Any, logged: Captured) -> None:
    stream = client.evaluate(content=["a", "b", "c"], policy_id="demo-policy")
    next(iter(stream))
    stream.close()
    (ended,) = logged.fields("stream_end", EVALUATE)
    assert ended["status"] == "CANCELLED" and ended["messages"] == 1


def test_a_stream_retried_before_its_first_message_logs_each_open(
    client: Any, make_client: Any, emulator: Emulator, logged: Captured
) -> None:
    retrying = make_client(retry=FAST)
    emulator.faults.add("Evaluate", grpc.StatusCode.UNAVAILABLE, times=1)
    assert len(list(retrying.evaluate(content=["x"], policy_id="demo-policy"))) == 1
    lines = logged.fields(method=EVALUATE)
    assert [(line["event"], line.get("attempt")) for line in lines] == [
        ("stream_open", 1),
        ("retry", 1),
        ("stream_open", 2),
        ("stream_end", None),
    ]
    assert lines[-1]["attempts"] == 2 and lines[-1]["status"] == "OK"


def test_a_failed_stream_logs_its_status(
    client: Any, make_client: Any, emulator: Emulator, logged: Captured
) -> None:
    emulator.faults.add("Evaluate", grpc.StatusCode.INTERNAL, times=1)
    with pytest.raises(Exception, match="INTERNAL"):
        list(client.evaluate(content=["x"], policy_id="demo-policy"))
    (ended,) = logged.fields("stream_end", EVALUATE)
    assert ended["status"] == "INTERNAL" and ended["messages"] == 0


def test_clarifai_calls_log_the_request_id(user: User, logged: Captured) -> None:
    list(user.list_apps())
    (line,) = logged.fields("attempt", "clarifai.api.V2/ListApps")
    assert line["status"] == "OK"
    assert line["request_id"] and line["request_id"].startswith("modelwire-python-")
    assert f"request_id={line['request_id']}" in line["text"]


def test_decthings_http_calls_are_logged(emulator: Emulator, api_key: str, logged: Captured) -> None:
    with DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url) as client:
        client.model.get_models({})
    (line,) = logged.fields("attempt", "Model.getModels")
    assert line["status"] == "OK" and line["attempt"] == 1
    assert line["http_status"] == 200 and line["transport"] == "http"
    assert "Model.getModels attempt=1 status=OK" in line["text"] and "http_status=200" in line["text"]


async def test_decthings_async_retries_are_logged(emulator: Emulator, api_key: str, logged: Captured) -> None:
    emulator.faults.add("Model.getModels", grpc.StatusCode.UNAVAILABLE, times=1)
    async with DecthingsClient(
        api_key=api_key, http_server_address=emulator.decthings_url, retry=FAST
    ) as client:
        await client.model.get_models({})
    attempts = logged.fields("attempt", "Model.getModels")
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "UNAVAILABLE"), (2, "OK")]
    (retry,) = logged.fields("retry", "Model.getModels")
    assert retry["attempt"] == 1 and retry["status"] == "UNAVAILABLE"


def test_nothing_is_logged_or_built_below_debug(
    client: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    original = observe.Call.__init__

    def spy(self: observe.Call, method: str, *args: Any, **kwargs: Any) -> None:
        built.append(method)
        original(self, method, *args, **kwargs)

    monkeypatch.setattr(observe.Call, "__init__", spy)
    with caplog.at_level(logging.INFO, logger="modelwire"):
        job = _job(client)
        client.get_job(job.job_uuid)
        list(client.evaluate(content=["x"], policy_id="demo-policy"))
    assert not [r for r in caplog.records if r.name == "modelwire.calls"]
    assert built == []  # the hot path made no observer at all


def test_no_key_in_any_record_across_a_full_run(
    emulator: Emulator, api_key: str, base_url: str, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Every kind of call, success, retry and failure (with the key echoed by the server), logged
    at DEBUG on every logger: the key appears in no record."""
    with caplog.at_level(logging.DEBUG):
        clavata = make_client(retry=FAST)
        job = _job(clavata)
        emulator.faults.add("GetJob", grpc.StatusCode.UNAVAILABLE, times=1, message=f"down for {api_key}")
        clavata.get_job(job.job_uuid)
        emulator.faults.add("GetJob", grpc.StatusCode.INTERNAL, message=f"boom with {api_key}")
        with pytest.raises(Exception, match="INTERNAL"):
            clavata.get_job(job.job_uuid)
        list(clavata.evaluate(content=["x", "y"], policy_id="demo-policy"))
        with User(user_id=emulator.user_id, base_url=base_url, pat=api_key) as user:
            list(user.list_apps())
        emulator.faults.add("Model.getModels", grpc.StatusCode.UNAVAILABLE, times=1, message=f"no {api_key}")
        with DecthingsClientSync(
            api_key=api_key, http_server_address=emulator.decthings_url, retry=FAST
        ) as decthings:
            decthings.model.get_models({})

        async def run_async() -> None:
            async with DecthingsClient(api_key=api_key, http_server_address=emulator.decthings_url) as dt:
                await dt.model.get_models({})

        asyncio.run(run_async())
    ours = [r for r in caplog.records if r.name.startswith("modelwire")]
    assert {"modelwire.calls", "modelwire.retry"} <= {r.name for r in ours}
    for record in caplog.records:
        rendered = f"{record.getMessage()} {record.args!r} {vars(record)!r}"
        assert api_key not in rendered, record.name
    assert api_key not in caplog.text
