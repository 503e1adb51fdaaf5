"""Decthings framing (HTTP bodies, WebSocket frames) and the client-side blob codecs."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelwire.decthings import DecthingsTensor
from modelwire.decthings._codecs import (
    DecthingsUsageError,
    decode_entries,
    decode_outputs,
    encode_create_model,
    encode_default,
    encode_entries,
    encode_fs,
    encode_upload_state,
    entry_batches,
)
from modelwire.decthings.protocol import (
    ProtocolError,
    WsEventFrame,
    WsResponseFrame,
    decode_http_request,
    decode_http_response,
    decode_ws_request,
    decode_ws_server_frame,
    dump_json,
    encode_http_request,
    encode_http_response,
    encode_ws_event,
    encode_ws_request,
    encode_ws_response,
)

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
blobs_st = st.lists(st.binary(max_size=40), max_size=6)
json_st = st.dictionaries(
    st.text(max_size=8), st.integers() | st.text(max_size=8) | st.booleans(), max_size=4
)


def test_request_body_matches_the_published_bytes() -> None:
    # The reference example: {"a": 1} (Python's default separators) with blobs b"xyz" and b"".
    body = encode_http_request(b'{"a": 1}', [b"xyz", b""])
    assert body.hex() == "020803007b2261223a20317d78797a"
    assert decode_http_request(body) == ({"a": 1}, [b"xyz", b""])


def test_length_65536_encodes_unlike_the_published_client() -> None:
    blob = b"x" * 65536
    body = encode_http_request(b"{}", [blob])
    assert body[:1] == b"\x01" and body[2:7] == b"\xfe\x00\x01\x00\x00"
    assert decode_http_request(body)[1] == [blob]


def test_more_than_255_blobs_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at most 255 blobs"):
        encode_http_request(b"{}", [b""] * 256)


def test_response_body_has_per_blob_lengths_and_no_count() -> None:
    body = encode_http_response(b'{"result":{}}', [b"ab", b""])
    assert body.hex() == "0d" + b'{"result":{}}'.hex() + "02" + b"ab".hex() + "00"
    assert decode_http_response(body) == ({"result": {}}, [b"ab", b""])


def test_ws_frames_round_trip() -> None:
    envelope = dump_json({"api": "Spawned", "method": "subscribeToEvents", "apiKey": None, "params": {}})
    frame = encode_ws_request(7, envelope, [b"\x01"])
    assert frame[:4] == b"\x00\x00\x00\x07"
    assert decode_ws_request(frame) == (7, json.loads(envelope), [b"\x01"])
    response = encode_ws_response(2**32 - 1, b'{"result":1}', [b"z"])
    assert decode_ws_server_frame(response) == WsResponseFrame(2**32 - 1, {"result": 1}, [b"z"])
    event = encode_ws_event("Terminal", b'{"event":"data","params":{}}', [b"out"])
    assert event[:2] == b"\x01\x08"
    assert decode_ws_server_frame(event) == WsEventFrame(
        "Terminal", {"event": "data", "params": {}}, [b"out"]
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"\x01\x02{}", "needs 2 bytes at offset 3"),
        (b"\x00\x03{}", "needs 3 bytes"),
        (b"\x00\x02{}x", "1 bytes after the last blob"),
        (b"\x00\x02}{", "not valid UTF-8 JSON"),
        (b"\x00\xfd\x00", "varint"),
    ],
)
def test_malformed_request_bodies_say_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode_http_request(body)


def test_unknown_ws_frame_kind() -> None:
    with pytest.raises(ProtocolError, match="unknown frame kind 0x07"):
        decode_ws_server_frame(b"\x07abc")


@FUZZ
@given(json_st, blobs_st)
def test_http_request_round_trip(params: dict[str, object], blobs: list[bytes]) -> None:
    assert decode_http_request(encode_http_request(dump_json(params), blobs)) == (params, blobs)


@FUZZ
@given(json_st, blobs_st)
def test_http_response_round_trip(payload: dict[str, object], blobs: list[bytes]) -> None:
    assert decode_http_response(encode_http_response(dump_json(payload), blobs)) == (payload, blobs)


@FUZZ
@given(st.binary(max_size=80))
def test_fuzzed_bytes_never_crash_the_decoders(data: bytes) -> None:
    for decode in (decode_http_request, decode_http_response, decode_ws_request, decode_ws_server_frame):
        with contextlib.suppress(ProtocolError):
            decode(data)


# -- codecs -------------------------------------------------------------------------------------


def f32(*values: float) -> DecthingsTensor:
    return DecthingsTensor(list(values), "f32", [len(values)])


def test_parameter_provider_tensors_leave_the_json_in_order() -> None:
    a, b, c = f32(1), f32(2, 3), DecthingsTensor(["x"], "string", [])
    body, blobs = encode_default(
        "Model.evaluate",
        {
            "modelId": "m",
            "params": [
                {"name": "input", "data": [a, b]},
                {"name": "ds", "data": {"type": "dataset", "datasetId": "d", "datasetKey": "k"}},
                {"name": "text", "data": [c]},
            ],
        },
    )
    assert body == {
        "modelId": "m",
        "params": [
            {"name": "input"},
            {"name": "ds", "data": {"type": "dataset", "datasetId": "d", "datasetKey": "k"}},
            {"name": "text"},
        ],
    }
    assert blobs == [a.serialize() + b.serialize(), c.serialize()]


def test_a_bare_tensor_is_a_usage_error() -> None:
    with pytest.raises(
        DecthingsUsageError, match=r"params\[0\]\.data: a DecthingsTensor must be inside a list"
    ):
        encode_default("Model.evaluate", {"params": [{"name": "x", "data": f32(1)}]})


def test_unserializable_values_are_named() -> None:
    with pytest.raises(DecthingsUsageError, match=r"Model.getModels.filter: set cannot be sent"):
        encode_default("Model.getModels", {"filter": {1, 2}})


def test_add_entries_sorts_keys_and_orders_blobs_entry_major() -> None:
    a1, a2, b1, b2 = f32(1), f32(2), f32(3), f32(4)
    body, blobs = encode_entries(
        "Dataset.addEntries",
        {"datasetId": "d1", "keys": [{"key": "b", "data": [b1, b2]}, {"key": "a", "data": [a1, a2]}]},
    )
    assert body == {"datasetId": "d1", "keys": ["a", "b"]}
    assert blobs == [a1.serialize(), b1.serialize(), a2.serialize(), b2.serialize()]


def test_add_entries_rejects_uneven_keys() -> None:
    with pytest.raises(DecthingsUsageError, match="counts differ"):
        encode_entries(
            "Dataset.addEntries",
            {"datasetId": "d", "keys": [{"key": "a", "data": [f32(1)]}, {"key": "b", "data": []}]},
        )
    with pytest.raises(DecthingsUsageError, match='key "a" is given twice'):
        encode_entries("Dataset.addEntries", {"datasetId": "d", "keys": [{"key": "a", "data": []}] * 2})


def test_add_entries_beyond_255_blobs_is_split_on_entry_boundaries() -> None:
    tensors = [f32(i) for i in range(300)]
    params = {"datasetId": "d", "keys": [{"key": "x", "data": tensors}, {"key": "y", "data": tensors}]}
    batches = entry_batches("Dataset.addEntries", params)
    assert [len(b["keys"][0]["data"]) for b in batches] == [127, 127, 46]
    assert [t for b in batches for t in b["keys"][1]["data"]] == tensors


def test_get_entries_result_becomes_per_key_lists() -> None:
    t = [f32(i) for i in range(4)]
    result = decode_entries(
        "Dataset.getEntries", {"keys": ["a", "b"], "indexes": [5, 9]}, [x.serialize() for x in t]
    )
    assert result == {
        "keys": [
            {"key": "a", "data": [{"index": 5, "data": t[0]}, {"index": 9, "data": t[2]}]},
            {"key": "b", "data": [{"index": 5, "data": t[1]}, {"index": 9, "data": t[3]}]},
        ]
    }


def test_evaluate_outputs_get_all_their_tensors() -> None:
    # Two numeric tensors in one output: the published 0.0.4 parser rejects this.
    x, y = f32(1, 2), f32(3)
    result = decode_outputs(
        "Model.evaluate", {"success": {"output": [{"name": "out"}]}}, [x.serialize() + y.serialize()]
    )
    assert result["success"]["output"][0]["data"] == [x, y]


def test_state_upload_and_model_upload() -> None:
    body, blobs = encode_upload_state(
        "Model.uploadState", {"modelId": "m", "name": "s", "data": [{"key": "w", "data": b"\x00\x01"}]}
    )
    assert body == {"modelId": "m", "name": "s", "stateKeyNames": ["w"]} and blobs == [b"\x00\x01"]
    body, blobs = encode_create_model(
        "Model.createModel",
        {"name": "n", "description": "", "options": {"type": "upload", "format": "onnx", "data": b"ONNX"}},
    )
    assert body == {"name": "n", "description": "", "options": {"type": "upload", "format": "onnx"}}
    assert blobs == [b"ONNX"]


def test_fs_names_are_base64() -> None:
    body, blobs = encode_fs("FS.write", {"modelId": "m", "inode": 3, "name": b"a\xffb", "data": b"hello"})
    assert body == {"modelId": "m", "inode": 3, "name": "Yf9i"} and blobs == [b"hello"]
