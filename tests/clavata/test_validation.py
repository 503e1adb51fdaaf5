"""Bad input to the Clavata client is refused up front with a typed, explained error (issue 11)."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from modelwire._core.errors import ConfigurationError, UsageError
from modelwire.clavata import (
    ClavataClient,
    ContentData,
    CreateJobRequest,
    EvaluateLabelsRequest,
    GetJobRequest,
    SeenDeliveries,
    VideoContent,
    WebhookVerificationError,
    sign_webhook,
    verify_webhook,
)
from modelwire.emulator import Emulator

KEY = "test-key-0123456789"


def test_an_explicit_empty_host_is_refused_not_sent_to_production(emulator: Emulator) -> None:
    for host in ("", "   "):
        with pytest.raises(ConfigurationError, match=r"host=.* is empty"):
            ClavataClient(host=host, port=emulator.port, auth_token=KEY)


@pytest.mark.parametrize("bad", ["abc\ndef-key", "abc\rdef", "zq\x00zero", "clé-ünïcode", "tq\there"])
def test_a_key_with_a_character_invalid_in_metadata_is_refused_without_showing_it(
    bad: str, emulator: Emulator
) -> None:
    with pytest.raises(ConfigurationError, match="invalid character") as caught:
        ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=bad)
    # Neither the key nor a recognisable fragment of it is echoed.
    assert bad not in str(caught.value) and bad[:3] not in str(caught.value)


@pytest.mark.parametrize("timeout", [-1, 0, 0.0, math.nan, math.inf, "5", True, [1]])
def test_a_bad_client_timeout_is_a_configuration_error(timeout: Any, emulator: Emulator) -> None:
    with pytest.raises(ConfigurationError, match="timeout must be"):
        ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=KEY, timeout=timeout)


@pytest.mark.parametrize("timeout", [-1, 0, math.nan, "5", object(), 1e300])
def test_a_bad_per_call_timeout_is_a_usage_error(client: Any, timeout: Any) -> None:
    calls = [
        lambda: client.get_job("any-job", timeout=timeout),
        lambda: client.create_job(content="x", policy_id="demo-policy", timeout=timeout),
        lambda: client.evaluate_one(content="x", policy_id="demo-policy", timeout=timeout),
        lambda: client.evaluate_labels(content="x", label_version_ids=["v"], timeout=timeout),
        lambda: client.list_jobs(timeout=timeout),
        lambda: client.evaluate(content="x", policy_id="demo-policy", stream_timeout=timeout),
        lambda: client.evaluate(content="x", policy_id="demo-policy", message_timeout=timeout),
        lambda: client.wait_for_job("any-job", timeout=timeout),
    ]
    for call in calls:
        with pytest.raises(UsageError, match="timeout must be"):
            call()


def test_per_call_none_timeout_still_means_no_deadline(client: Any) -> None:
    job = client.create_job(content="x", policy_id="demo-policy", wait_for_completion=True, timeout=None)
    assert client.wait_for_job(job, timeout=None).status.finished


@pytest.mark.parametrize("max_items", [-1, "3", 1.5])
def test_a_bad_max_items_is_a_usage_error(client: Any, max_items: Any) -> None:
    with pytest.raises(UsageError, match="max_items"):
        client.list_jobs(max_items=max_items)


SURROGATE = "ok \ud800 then"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: dict(content=SURROGATE, policy_id="demo-policy"), "content"),
        (lambda: dict(content=["fine", SURROGATE], policy_id="demo-policy"), r"content\[1\]"),
        (lambda: dict(content="x", policy_id="demo-\udfff"), "policy_id"),
        (lambda: dict(content=ContentData(text="x", metadata={"k": SURROGATE}), policy_id="p"), "metadata"),
        (lambda: dict(content=ContentData(text="x", labels=[SURROGATE]), policy_id="p"), "labels"),
        (lambda: dict(content=ContentData(image_url=SURROGATE), policy_id="p"), "image_url"),
        (lambda: dict(content="x", policy_id="p", options={"k": SURROGATE}), "option"),
    ],
)
def test_lone_surrogates_are_a_usage_error_naming_the_field(client: Any, build: Any, field: str) -> None:
    with pytest.raises(UsageError, match=field) as caught:
        client.create_job(**build())
    assert "surrogate" in str(caught.value)


def test_lone_surrogates_in_other_requests(client: Any) -> None:
    with pytest.raises(UsageError, match="job_uuid"):
        client.get_job("\ud800")
    with pytest.raises(UsageError, match="global_context"):
        client.evaluate_labels(content="x", label_version_ids=["v"], global_context="\udc80")
    with pytest.raises(UsageError, match=r"label_version_ids\[0\]"):
        EvaluateLabelsRequest(content="x", label_version_ids=["\ud800"])
    with pytest.raises(UsageError, match=r"VideoContent\.url"):
        ContentData(video="\ud800")
    with pytest.raises(UsageError, match="webhook url"):
        CreateJobRequest(content="x", policy_id="p").add_webhook("https://h/\ud800")
    with pytest.raises(UsageError, match="surrogate"):
        list(client.evaluate(content=SURROGATE, policy_id="demo-policy"))


def test_wrongly_typed_flags_and_fields_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="expedited"):
        CreateJobRequest(content="x", policy_id="p", expedited="yes")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="bypass_cache"):
        EvaluateLabelsRequest(content="x", label_version_ids=["v"], bypass_cache=1)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="num_frames"):
        VideoContent("https://v", num_frames=2**40)
    with pytest.raises(UsageError, match="num_frames"):
        VideoContent("https://v", num_frames=-1)
    with pytest.raises(UsageError, match="webhook url"):
        CreateJobRequest(content="x", policy_id="p").add_webhook("https://[::1/x")
    with pytest.raises(UsageError, match="job_uuid"):
        GetJobRequest(5)  # type: ignore[arg-type]


def test_good_text_with_astral_characters_still_passes(client: Any) -> None:
    job = client.create_job(content="emoji 🙂 and ünïcode", policy_id="demo-policy", wait_for_completion=True)
    assert job.status.finished


# --- webhook replay protection -------------------------------------------------------------


def _signed(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    return {"X-Webhook-Signature": sign_webhook(body, KEY, timestamp)}


BODY = b'{"jobUuid": "abc", "status": "JOB_STATUS_COMPLETED"}'


@pytest.mark.parametrize("store", [SeenDeliveries, set])
def test_verifying_the_same_delivery_twice_raises_with_a_seen_store(store: Any) -> None:
    seen = store()
    headers = _signed(BODY)
    assert verify_webhook(BODY, headers, KEY, seen=seen).job_uuid == "abc"
    with pytest.raises(WebhookVerificationError, match="already verified"):
        verify_webhook(BODY, headers, KEY, seen=seen)
    # A fresh signature (a new delivery) of the same body is still accepted.
    assert verify_webhook(BODY, _signed(BODY, int(__import__("time").time()) - 1), KEY, seen=seen)


def test_a_rejected_request_does_not_poison_the_seen_store() -> None:
    seen = SeenDeliveries()
    headers = _signed(BODY)
    with pytest.raises(WebhookVerificationError, match="mismatch"):
        verify_webhook(BODY + b" ", headers, KEY, seen=seen)
    assert len(seen) == 0
    assert verify_webhook(BODY, headers, KEY, seen=seen).job_uuid == "abc"


def test_seen_deliveries_forget_ids_after_their_ttl() -> None:
    seen = SeenDeliveries(ttl=0.05)
    seen.add("t=1,v1=aa")
    assert "t=1,v1=aa" in seen
    import time

    time.sleep(0.08)
    assert "t=1,v1=aa" not in seen and len(seen) == 0


def test_without_a_store_verification_is_unchanged() -> None:
    headers = _signed(BODY)
    verify_webhook(BODY, headers, KEY)
    assert verify_webhook(BODY, headers, KEY).job_uuid == "abc"


@pytest.mark.parametrize(
    "header",
    ["t=²,v1=ab", "t=1,v1=é", "t=,v1=ab", "t=12", "garbage", "t=1,v1="],
)
def test_malformed_signature_headers_are_verification_errors_not_crashes(header: str) -> None:
    with pytest.raises(WebhookVerificationError, match="malformed"):
        verify_webhook(BODY, {"X-Webhook-Signature": header}, KEY)


def test_wrong_body_types_are_verification_errors() -> None:
    with pytest.raises(WebhookVerificationError, match="body must be"):
        verify_webhook(5, _signed(BODY), KEY)  # type: ignore[arg-type]
    bad_utf8 = b"\xff\xfe{}"
    with pytest.raises(WebhookVerificationError, match="not a job"):
        verify_webhook(bad_utf8, _signed(bad_utf8), KEY)


def test_an_emulator_host_off_loopback_warns(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    monkeypatch.setenv("CLAVATA_EMULATOR_HOST", "emulator.internal:50051")
    with caplog.at_level(logging.INFO, logger="modelwire"):
        client = ClavataClient(auth_token=KEY)
    client.close()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "plaintext" in warnings[0].getMessage()
    assert KEY not in caplog.text
