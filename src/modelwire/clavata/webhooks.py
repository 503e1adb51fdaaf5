"""Verifying job webhooks.

When a job with a webhook completes, the job is POSTed as JSON (the `Job` message in proto3 JSON
form) with the extra headers (prefixed `X-Webhook-`) and a signature header:

    X-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

The secret is the API key of the account that created the job. `verify_webhook` checks the
signature in constant time, rejects stale timestamps, and returns the typed `Job`. Within the
freshness window a captured request could be replayed; pass `seen=SeenDeliveries()` (or any
set-like store shared by your receivers) and a second verification of the same delivery raises.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Protocol

from google.protobuf import json_format

from modelwire._core.errors import ModelwireError
from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire.clavata.types import Job

SIGNATURE_HEADER = "X-Webhook-Signature"
DEFAULT_TOLERANCE = 300.0


class WebhookVerificationError(ModelwireError):
    """The webhook request is not authentic, is stale, was already verified, or is not a job."""


class DeliveryStore(Protocol):
    """What `verify_webhook(seen=...)` needs: a set of delivery ids (a `set` will do)."""

    def __contains__(self, delivery_id: object, /) -> bool: ...

    def add(self, delivery_id: str, /) -> None: ...


class SeenDeliveries:
    """Delivery ids verified in the last `ttl` seconds: an in-process `seen=` store that stays small.

    An id only needs remembering while its timestamp could still pass the freshness check, i.e.
    for twice the tolerance (the clock may be skewed either way); older ids are forgotten.
    """

    def __init__(self, ttl: float = 2 * DEFAULT_TOLERANCE) -> None:
        self.ttl = ttl
        self._ids: set[str] = set()
        self._order: deque[tuple[float, str]] = deque()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._order and self._order[0][0] <= now:
            self._ids.discard(self._order.popleft()[1])

    def __contains__(self, delivery_id: object) -> bool:
        with self._lock:
            self._expire(time.monotonic())
            return delivery_id in self._ids

    def add(self, delivery_id: str) -> None:
        """Remember `delivery_id` for `ttl` seconds (adding one already held changes nothing)."""
        with self._lock:
            now = time.monotonic()
            self._expire(now)
            if delivery_id not in self._ids:
                self._ids.add(delivery_id)
                self._order.append((now + self.ttl, delivery_id))

    def __len__(self) -> int:
        with self._lock:
            self._expire(time.monotonic())
            return len(self._ids)


# One check-then-add at a time, so two threads handed the same delivery cannot both accept it.
_SEEN_LOCK = threading.Lock()


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(
        secret.encode("utf-8", "surrogatepass"), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()


def sign_webhook(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header value for `body` (what the service, or the emulator, sends)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={_mac(secret, ts, body)}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == wanted), None)


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit() is True, but int() rejects it


def verify_webhook(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
    seen: DeliveryStore | None = None,
) -> Job:
    """Check a webhook's signature and freshness; return the job it carries.

    Raises WebhookVerificationError saying what failed (missing/malformed header, bad signature,
    timestamp outside `tolerance` seconds, already verified, body not a job).

    Replay protection: the freshness check alone lets a captured request be replayed within
    `tolerance`. Pass `seen=` (a `SeenDeliveries()`, a `set`, or any store with `in` and `add`,
    e.g. one backed by a shared cache when several processes receive webhooks) and each delivery
    is accepted once; verifying it again raises. A delivery is identified by its signature
    (`t` and `v1`), which is unique per signed request. A sender retry is signed afresh, so it is
    a new delivery: deduplicate by `job.job_uuid` too if processing a job twice is harmful.
    """
    if isinstance(body, str):
        raw = body.encode("utf-8", "surrogatepass")
    elif isinstance(body, (bytes, bytearray, memoryview)):
        raw = bytes(body)
    else:
        raise WebhookVerificationError(f"body must be the raw request bytes, got {type(body).__name__}")
    if not isinstance(headers, Mapping):
        raise WebhookVerificationError(f"headers must be a mapping, got {type(headers).__name__}")
    header = _header(headers, SIGNATURE_HEADER)
    if not header or not isinstance(header, str):
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header; this request was not signed")
    fields = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    t, v1 = fields.get("t", ""), fields.get("v1", "")
    if not _is_ascii_digits(t) or not v1.isascii() or not v1:
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header (expected t=<seconds>,v1=<hex>)")
    timestamp = int(t)
    if not secret or not isinstance(secret, str):
        raise WebhookVerificationError(
            "no secret given to verify against (use the API key that created the job)"
        )
    if not hmac.compare_digest(_mac(secret, timestamp, raw), v1):
        raise WebhookVerificationError("signature mismatch: wrong secret, or the body was altered")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise WebhookVerificationError(
            f"timestamp is {age:.0f}s away from now (tolerance {tolerance:.0f}s); replay?"
        )
    try:
        job = json_format.Parse(raw, public_pb2.Job(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError) as exc:
        raise WebhookVerificationError(f"body is not a job: {exc}") from exc
    if seen is not None:
        delivery_id = f"t={timestamp},v1={v1}"
        with _SEEN_LOCK:
            if delivery_id in seen:
                raise WebhookVerificationError(
                    f"delivery already verified (signed at t={timestamp}): a replayed request; ignore it"
                )
            seen.add(delivery_id)
    return Job.from_proto(job)


def job_to_json(job: public_pb2.Job) -> bytes:
    """The webhook body for a job (proto3 JSON)."""
    return json_format.MessageToJson(job, indent=None).encode()
