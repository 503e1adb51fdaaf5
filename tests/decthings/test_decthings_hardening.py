"""Keys never leak, every failure is a ModelwireError, and a split add_entries says what landed.

Every test runs on DecthingsClientSync and DecthingsClient (the `dt` fixture) against the emulator,
or against a real misbehaving server on loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import numpy as np
import pytest

from modelwire._core import errors as core
from modelwire._core.retry import NO_RETRY, RetryPolicy
from modelwire._core.writes import NOT_SENT, WriteSummary
from modelwire.decthings import (
    DecthingsApiError,
    DecthingsClient,
    DecthingsClientSync,
    DecthingsHttpError,
    DecthingsTensor,
    DecthingsTensorError,
    InvalidParameterError,
    TensorFormatError,
    VarintError,
    encode_varint,
)
from modelwire.decthings.protocol import ProtocolError, decode_http_response, encode_http_request
from modelwire.emulator import Emulator

N = 300  # entries; with two keys one request carries 127, so three requests: 127, 127, 46
PER_CALL = 127
# For tests that build their own clients with make_dt: run them on both kinds too.
both = pytest.mark.parametrize("dt", ["sync", "async"])


def vec(*values: float) -> DecthingsTensor:
    return DecthingsTensor(np.asarray(values, dtype=np.float32), "f32", [len(values)])


def scalar(value: float) -> DecthingsTensor:
    return DecthingsTensor([value], "f32", [])


def new_dataset(dt: Any) -> str:
    created = dt.dataset.create_dataset(
        {
            "name": f"ds-{uuid.uuid4().hex[:8]}",
            "description": "hardening",
            "keys": [
                {"name": "input", "rules": {"shape": [2], "allowedTypes": ["f32"]}},
                {"name": "target", "rules": {"shape": [], "allowedTypes": ["f32"]}},
            ],
        }
    )
    return str(created["datasetId"])


def entries(dataset_id: str, bad: int | None = None) -> dict[str, Any]:
    inputs = [vec(i, -i) for i in range(N)]
    if bad is not None:
        inputs[bad] = vec(1, 2, 3)  # breaks the key's shape rule
    return {
        "datasetId": dataset_id,
        "keys": [{"key": "input", "data": inputs}, {"key": "target", "data": [scalar(i) for i in range(N)]}],
    }


def entry_count(dt: Any, dataset_id: str) -> int:
    (info,) = dt.dataset.get_datasets({"filter": {"ids": [dataset_id]}})["datasets"]
    return int(info["entries"]["count"])


def rendered(err: BaseException) -> str:
    """Everything a log or an error tracker could show: str, repr, and a traceback with locals
    (from the first frame outside the tests, whose own locals hold the key as a fixture)."""
    tb = err.__traceback__
    while tb is not None and "/tests/" in tb.tb_frame.f_code.co_filename:
        tb = tb.tb_next
    assert tb is not None
    captured = traceback.TracebackException.from_exception(err.with_traceback(tb), capture_locals=True)
    return "\n".join([str(err), repr(err), "".join(captured.format())])


# -- keys never leak ------------------------------------------------------------------------------


def test_a_key_the_server_echoes_is_redacted(dt: Any, emulator: Emulator, api_key: str) -> None:
    emulator.faults.add("Model.getModels", grpc.StatusCode.INTERNAL, message=f"the key {api_key} is odd")
    with pytest.raises(DecthingsApiError) as err:
        dt.model.get_models({})
    assert "the key *** is odd" in str(err.value) and err.value.error["message"] == "the key *** is odd"
    assert api_key not in rendered(err.value)


@both
def test_a_key_echoed_in_an_http_error_body_is_redacted(
    dt: str, make_dt: Callable[..., Any], emulator: Emulator, api_key: str
) -> None:
    client = make_dt(retry=NO_RETRY)
    emulator.faults.add("Model.getModels", grpc.StatusCode.UNAVAILABLE, message=f"overloaded for {api_key}")
    with pytest.raises(DecthingsHttpError) as err:
        client.model.get_models({})
    assert "overloaded for ***" in str(err.value)
    assert api_key not in rendered(err.value)


@both
def test_a_failed_websocket_call_keeps_the_key_out_of_its_traceback(
    dt: str, make_dt: Callable[..., Any], emulator: Emulator, api_key: str
) -> None:
    client = make_dt(retry=NO_RETRY)
    # On the WebSocket an UNAVAILABLE fault drops the connection while the request is pending.
    emulator.faults.add("Model.subscribeToEvents", grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(core.UnavailableError) as err:
        client.model.subscribe_to_events({"trainingSessionId": "nope"}, timeout=10)
    assert api_key not in rendered(err.value)


@pytest.fixture
def dropping_server() -> Iterator[str]:
    """A real HTTP server on loopback that reads each request and hangs up without answering."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v0"
    stop.set()
    thread.join(5)
    listener.close()


@both
def test_a_connection_dropped_mid_call_keeps_the_key_out_of_its_traceback(
    dt: str, make_dt: Callable[..., Any], dropping_server: str, api_key: str
) -> None:
    client = make_dt(http_server_address=dropping_server, retry=NO_RETRY)
    with pytest.raises(core.UnavailableError, match="connection broke") as err:
        client.model.get_models({}, timeout=10)
    assert api_key not in rendered(err.value)


@pytest.mark.parametrize("cls", [DecthingsClientSync, DecthingsClient])
def test_reprs_and_a_failed_constructor_never_show_the_key(cls: type, api_key: str) -> None:
    with pytest.raises(core.ConfigurationError, match="http_server_address must be") as err:
        cls(api_key=api_key, http_server_address="ftp://127.0.0.1/v0")
    assert api_key not in rendered(err.value)
    client = cls(api_key=api_key, http_server_address="http://127.0.0.1:1/v0")
    try:
        engine = client._engine
        shown = [repr(client), str(client), repr(engine), repr(vars(engine)), repr(client._invoker)]
        shown += [repr(getattr(client, name)) for name in ("model", "dataset")]
        assert all(api_key not in text for text in shown), shown
        assert "***" in repr(engine)
    finally:
        client.close()


# -- every failure is a ModelwireError ------------------------------------------------------------


def test_tensor_varint_and_framing_errors_are_modelwire_errors() -> None:
    cases: list[Callable[[], object]] = [
        lambda: DecthingsTensor([1], "nope"),  # type: ignore[arg-type]
        lambda: DecthingsTensor([1.0, 2.0], "f32", [3]),
        lambda: DecthingsTensor([], "f32", [0] * 65).numpy(),  # more dims than numpy holds
        lambda: DecthingsTensor([1.0, 2.0], "f32").item(),
        lambda: DecthingsTensor.deserialize(b"\x63"),
        lambda: encode_varint(-1),
        lambda: decode_http_response(b""),
        lambda: encode_http_request(b"{}", [b""] * 256),
    ]
    for case in cases:
        with pytest.raises(core.ModelwireError) as err:
            case()
        assert isinstance(err.value, ValueError)  # still what the published client raised
    assert issubclass(TensorFormatError, DecthingsTensorError)
    assert issubclass(VarintError, core.ModelwireError) and issubclass(ProtocolError, core.ModelwireError)


@both
def test_a_missing_key_is_a_configuration_error_before_anything_is_sent(
    dt: str, make_dt: Callable[..., Any], emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DECTHINGS_API_KEY", raising=False)
    client = make_dt(api_key=None)  # building one without a key is allowed, as in decthings-api 0.0.4
    before = emulator.calls.counts()["Model.getModels"]
    with pytest.raises(core.ConfigurationError, match="DECTHINGS_API_KEY"):
        client.model.get_models({})
    assert emulator.calls.counts()["Model.getModels"] == before
    assert client.model.unsubscribe_from_events({"trainingSessionId": "x"}) == {}  # never sent


def test_a_split_add_entries_names_the_bad_entry_by_its_index_in_the_callers_list(dt: Any) -> None:
    dataset_id = new_dataset(dt)
    with pytest.raises(InvalidParameterError) as err:
        dt.dataset.add_entries(entries(dataset_id, bad=150))
    # The server numbered it 23 within the second request.
    assert "entry 150 of key 'input'" in str(err.value) and "entry 23 " not in str(err.value)
    assert err.value.reason is not None and "entry 150" in err.value.reason
    assert "entries 127-253 of the 300 given were in the failed request" in str(err.value)


# -- a split add_entries says what landed ---------------------------------------------------------


def _check_accounting(summary: WriteSummary | None) -> WriteSummary:
    assert isinstance(summary, WriteSummary)
    keys = [*summary.uploaded, *summary.failed, *summary.unknown]
    assert sorted(keys, key=int) == [str(i) for i in range(N)]  # every index exactly once
    assert summary.accounted == N
    return summary


def test_an_api_error_part_way_accounts_for_every_entry(dt: Any) -> None:
    dataset_id = new_dataset(dt)
    with pytest.raises(InvalidParameterError) as err:
        dt.dataset.add_entries(entries(dataset_id, bad=150))
    summary = _check_accounting(err.value.summary)
    assert summary.uploaded == [str(i) for i in range(PER_CALL)]
    failing = {str(i) for i in range(PER_CALL, 2 * PER_CALL)}
    assert {k for k, why in summary.failed.items() if "invalid_parameter" in why} == failing
    assert {k for k, why in summary.failed.items() if why == NOT_SENT} == {
        str(i) for i in range(2 * PER_CALL, N)
    }
    assert not summary.unknown and not err.value.outcome_unknown
    assert entry_count(dt, dataset_id) == PER_CALL


@both
def test_a_refused_request_part_way_is_failed_not_unknown(
    dt: str, make_dt: Callable[..., Any], emulator: Emulator
) -> None:
    client = make_dt(retry=NO_RETRY)
    dataset_id = new_dataset(client)
    emulator.faults.add("Dataset.addEntries", grpc.StatusCode.OK)  # the first request goes through
    emulator.faults.add("Dataset.addEntries", grpc.StatusCode.UNAVAILABLE)  # HTTP 503: not processed
    with pytest.raises(DecthingsHttpError) as err:
        client.dataset.add_entries(entries(dataset_id))
    summary = _check_accounting(err.value.summary)
    assert len(summary.uploaded) == PER_CALL and not summary.unknown
    assert sum(why.startswith("UNAVAILABLE: HTTP 503") for why in summary.failed.values()) == PER_CALL
    assert entry_count(client, dataset_id) == PER_CALL


@both
def test_a_request_left_without_an_answer_is_unknown(
    dt: str, make_dt: Callable[..., Any], emulator: Emulator
) -> None:
    client = make_dt(retry=NO_RETRY)
    dataset_id = new_dataset(client)
    emulator.faults.add("Dataset.addEntries", grpc.StatusCode.OK)
    # The second request is held by the server past the call's deadline, then applied.
    emulator.faults.add("Dataset.addEntries", grpc.StatusCode.OK, delay=2.0)
    with pytest.raises(core.DeadlineExceededError) as err:
        client.dataset.add_entries(entries(dataset_id), timeout=1.0)
    summary = _check_accounting(err.value.summary)
    assert summary.uploaded == [str(i) for i in range(PER_CALL)]
    assert set(summary.unknown) == {str(i) for i in range(PER_CALL, 2 * PER_CALL)}
    assert set(summary.failed) == {str(i) for i in range(2 * PER_CALL, N)}
    assert err.value.outcome_unknown
    # "unknown" was honest: the held request did land.
    deadline = time.monotonic() + 5
    while entry_count(client, dataset_id) != 2 * PER_CALL and time.monotonic() < deadline:
        time.sleep(0.1)
    assert entry_count(client, dataset_id) == 2 * PER_CALL


def test_a_call_that_is_not_split_has_no_summary(dt: Any) -> None:
    dataset_id = new_dataset(dt)
    with pytest.raises(InvalidParameterError) as err:
        dt.dataset.add_entries(
            {
                "datasetId": dataset_id,
                "keys": [{"key": "input", "data": [vec(1)]}, {"key": "target", "data": [scalar(0)]}],
            }
        )
    assert err.value.summary is None


@both
def test_a_write_that_could_not_connect_is_retried_and_accounted_as_never_sent(
    dt: str, make_dt: Callable[..., Any]
) -> None:
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_dt(
        http_server_address=f"http://127.0.0.1:{port}/v0",
        retry=RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02),
    )
    with pytest.raises(core.UnavailableError, match="cannot connect") as err:
        client.dataset.create_dataset({"name": "x", "description": "", "keys": []}, timeout=10)
    assert err.value.attempts == 3 and err.value.never_sent and not err.value.outcome_unknown
