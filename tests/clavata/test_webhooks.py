"""Webhooks: the emulator POSTs finished jobs, signed and retried, to a real local listener."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from modelwire.clavata import (
    CreateJobRequest,
    InvalidArgumentError,
    JobStatus,
    UsageError,
    WebhookVerificationError,
    sign_webhook,
    verify_webhook,
)
from modelwire.emulator import Emulator


@dataclass
class Listener:
    url: str
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    fail_first: int = 0
    hits: int = 0
    event: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def listener() -> Iterator[Listener]:
    state: dict[str, Listener] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook = state["hook"]
            hook.hits += 1
            if hook.hits <= hook.fail_first:
                self.send_response(503)
                self.end_headers()
                return
            hook.received.append((body, dict(self.headers.items())))
            self.send_response(204)
            self.end_headers()
            hook.event.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["hook"] = Listener(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["hook"]
    server.shutdown()
    server.server_close()


def test_webhook_is_delivered_signed_with_prefixed_headers(
    client: Any, listener: Listener, api_key: str
) -> None:
    request = CreateJobRequest(content=["kill", "calm"], policy_id="demo-policy").add_webhook(
        listener.url, extra_headers={"Tenant": "acme", "X-Webhook-Trace": "t-1"}
    )
    job = client.create_job(request)
    assert listener.event.wait(10), "the webhook never arrived"
    body, headers = listener.received[0]
    assert headers["X-Webhook-Tenant"] == "acme"
    assert headers["X-Webhook-Trace"] == "t-1"  # already prefixed: not doubled
    delivered = verify_webhook(body, headers, api_key)
    assert delivered.job_uuid == job.job_uuid
    assert delivered.status == JobStatus.COMPLETED
    assert [r.report.outcome for r in delivered.results] == ["TRUE", "FALSE"]


def test_webhook_is_retried_until_the_listener_accepts(
    sync_client: Any, listener: Listener, emulator: Emulator
) -> None:
    listener.fail_first = 2
    job = sync_client.create_job(
        CreateJobRequest(content="x", policy_id="demo-policy").add_webhook(listener.url)
    )
    assert listener.event.wait(10)
    delivery = next(d for d in emulator.clavata.webhooks.deliveries if d.job_uuid == job.job_uuid)
    assert delivery.done.wait(5)
    assert delivery.attempts == 3 and delivery.delivered


def test_verify_rejects_tampering_wrong_secret_and_replays(api_key: str) -> None:
    body = b'{"jobUuid": "abc", "status": "JOB_STATUS_COMPLETED"}'
    headers = {"x-webhook-signature": sign_webhook(body, api_key)}
    assert verify_webhook(body, headers, api_key).job_uuid == "abc"
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        verify_webhook(body.replace(b"abc", b"abd"), headers, api_key)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        verify_webhook(body, headers, "another-secret")
    old = {"X-Webhook-Signature": sign_webhook(body, api_key, timestamp=int(time.time()) - 3600)}
    with pytest.raises(WebhookVerificationError, match="replay"):
        verify_webhook(body, old, api_key)
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_webhook(body, {}, api_key)
    with pytest.raises(WebhookVerificationError, match="malformed"):
        verify_webhook(body, {"X-Webhook-Signature": "v1=abc"}, api_key)


def test_verify_rejects_a_body_that_is_not_a_job(api_key: str) -> None:
    body = b"[1, 2, 3]"
    with pytest.raises(WebhookVerificationError, match="not a job"):
        verify_webhook(body, {"X-Webhook-Signature": sign_webhook(body, api_key)}, api_key)


def test_webhook_to_the_open_network_is_refused_by_the_emulator(client: Any) -> None:
    request = CreateJobRequest(content="x", policy_id="demo-policy").add_webhook("https://example.com/hook")
    with pytest.raises(InvalidArgumentError, match="loopback"):
        client.create_job(request)


def test_malformed_webhook_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="https"):
        CreateJobRequest(content="x", policy_id="p").add_webhook("not a url")
