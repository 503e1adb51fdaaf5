"""Request helpers and client configuration: bad input gets a clear error before anything is sent."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from modelwire import ConfigurationError
from modelwire.clavata import (
    AsyncClavataClient,
    ClavataClient,
    ContentData,
    CreateJobRequest,
    EvaluateLabelsRequest,
    EvaluateRequest,
    ListJobsQuery,
    TimeRange,
    UsageError,
    VideoContent,
)


def test_two_content_kinds_are_an_error_not_silent_loss() -> None:
    with pytest.raises(UsageError, match="text and image_url"):
        ContentData(text="hi", image_url="https://x/y.png")


def test_empty_content_and_wrong_types() -> None:
    with pytest.raises(UsageError, match="empty"):
        ContentData(metadata={"a": "b"}).to_proto()
    with pytest.raises(UsageError, match="must be a str"):
        ContentData(text=42)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="convert the value with str"):
        ContentData(text="x", metadata={"n": 1})  # type: ignore[dict-item]
    with pytest.raises(UsageError, match="at least one"):
        EvaluateRequest(content=[], policy_id="p")
    with pytest.raises(UsageError, match=r"content\[1\]"):
        EvaluateRequest(content=["ok", 3.5], policy_id="p")  # type: ignore[list-item]


def test_content_forms_normalise_to_the_wire() -> None:
    request = EvaluateRequest(
        content=["text", b"\x89PNG", ContentData(video="https://v/1.mp4")], policy_id="p"
    )
    kinds = [c.WhichOneof("content") for c in request.to_proto().content_data]
    assert kinds == ["text", "image", "video"]
    video = ContentData(video=VideoContent("https://v/2.mp4", num_frames=4), title="clip").to_proto()
    assert video.video.num_frames == 4 and video.title == "clip"
    assert "bytes>" in repr(ContentData(image=b"x" * 10_000))  # no megabytes in logs


def test_policy_threshold_and_options_are_validated() -> None:
    with pytest.raises(UsageError, match="policy_id"):
        EvaluateRequest(content="x", policy_id="")
    with pytest.raises(UsageError, match=r"within \[0, 1\]"):
        EvaluateRequest(content="x", policy_id="p", threshold=1.5)
    with pytest.raises(UsageError, match="expedited"):
        CreateJobRequest(content="x", policy_id="p", options={"expedited": "soon"})
    pb = CreateJobRequest(content="x", policy_id="p", options={"expedited": True, "k": "v"}).to_proto()
    assert dict(pb.options.options) == {"expedited": "true", "k": "v"}
    assert not EvaluateRequest(content="x", policy_id="p").to_proto().HasField("threshold")


def test_label_version_ids_are_bounded() -> None:
    with pytest.raises(UsageError, match="1 to 10"):
        EvaluateLabelsRequest(content="x", label_version_ids=[f"l{i}" for i in range(11)])
    with pytest.raises(UsageError, match="1 to 10"):
        EvaluateLabelsRequest(content="x", label_version_ids=[])


def test_list_query_is_sent_as_a_list_request() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    query = ListJobsQuery(
        created_time_range=TimeRange(start, datetime(2026, 2, 1)),
        status="completed",
        page_size=5,
        policy_id="p",
    )
    pb = query.to_proto_request()
    assert pb.page_size == 5 and pb.query.status == 3 and pb.query.policy_id == "p"
    assert pb.query.created_time_range.start.seconds == int(start.timestamp())
    assert pb.query.created_time_range.end.seconds == int(
        datetime(2026, 2, 1, tzinfo=timezone.utc).timestamp()
    )
    with pytest.raises(UsageError, match="status"):
        ListJobsQuery(status="DONE")
    with pytest.raises(UsageError, match="page_size"):
        ListJobsQuery(page_size=0)
    with pytest.raises(UsageError, match="starts after it ends"):
        TimeRange(datetime(2026, 2, 1), datetime(2026, 1, 1))


@pytest.mark.parametrize("cls", [ClavataClient, AsyncClavataClient])
def test_missing_key_names_the_argument_and_variable(cls: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAVATA_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match=r"auth_token=.*CLAVATA_API_KEY"):
        cls.create()


@pytest.mark.parametrize("cls", [ClavataClient, AsyncClavataClient])
def test_endpoint_resolution_and_tls_defaults(cls: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAVATA_API_KEY", "env-key-123")
    monkeypatch.delenv("CLAVATA_EMULATOR_HOST", raising=False)
    prod = cls.create()
    assert prod.endpoint.target == "gateway.app.clavata.ai:443" and prod.endpoint.secure
    assert "env-key-123" not in repr(prod)

    local = cls(host="localhost", port=7000)
    assert not local.endpoint.secure  # loopback: plaintext unless asked
    assert cls(host="localhost", port=7000, secure=True).endpoint.secure

    monkeypatch.setenv("CLAVATA_EMULATOR_HOST", "127.0.0.1:6123")
    emulated = cls.create()
    assert emulated.endpoint.target == "127.0.0.1:6123" and not emulated.endpoint.secure
    explicit = cls(host="gateway.example.com", port=443, auth_token="arg-key")
    assert explicit.endpoint.secure and explicit.endpoint.host == "gateway.example.com"  # argument wins

    monkeypatch.setenv("CLAVATA_EMULATOR_HOST", "no-port")
    with pytest.raises(ConfigurationError, match="host:port"):
        cls.create()


def test_raw_and_helper_requests_cannot_be_mixed(client: Any) -> None:
    with pytest.raises(UsageError, match="not both"):
        client.create_job(CreateJobRequest(content="x", policy_id="p"), policy_id="q")
    with pytest.raises(UsageError, match="expected a CreateJobRequest"):
        client.create_job("just a string")


def test_sync_streams_run_single_threaded_unless_turned_off() -> None:
    fast = ClavataClient(host="127.0.0.1", port=9, auth_token="k")
    plain = ClavataClient(
        host="127.0.0.1", port=9, auth_token="k", channel_options=[("SingleThreadedUnaryStream", 0)]
    )
    try:
        # grpc keeps this python-side flag on the channel; it decides the stream implementation.
        assert fast._t.channel._single_threaded_unary_stream is True
        assert plain._t.channel._single_threaded_unary_stream is False
    finally:
        fast.close()
        plain.close()
