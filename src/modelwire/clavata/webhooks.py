"""Verifying job webhooks.

When a job with a webhook completes, the job is POSTed as JSON (the `Job` message in proto3 JSON
form) with the extra headers (prefixed `X-Webhook-`) and a signature header:

    X-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

The secret is the API key of the account that created the job. `verify_webhook` checks the
signature in constant time, rejects stale timestamps (replays), and returns the typed `Job`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from google.protobuf import json_format

from modelwire._core.errors import ModelwireError
from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire.clavata.types import Job

SIGNATURE_HEADER = "X-Webhook-Signature"
DEFAULT_TOLERANCE = 300.0


class WebhookVerificationError(ModelwireError):
    """The webhook request is not authentic, is stale, or is not a job."""


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_webhook(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header value for `body` (what the service, or the emulator, sends)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={_mac(secret, ts, body)}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def verify_webhook(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Job:
    """Check a webhook's signature and freshness; return the job it carries.

    Raises WebhookVerificationError saying what failed (missing/malformed header, bad signature,
    timestamp outside `tolerance` seconds, body not a job).
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    header = _header(headers, SIGNATURE_HEADER)
    if not header:
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header; this request was not signed")
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in fields or "v1" not in fields or not fields["t"].isdigit():
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header (expected t=<seconds>,v1=<hex>)")
    timestamp = int(fields["t"])
    if not secret:
        raise WebhookVerificationError(
            "no secret given to verify against (use the API key that created the job)"
        )
    if not hmac.compare_digest(_mac(secret, timestamp, raw), fields["v1"]):
        raise WebhookVerificationError("signature mismatch: wrong secret, or the body was altered")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise WebhookVerificationError(
            f"timestamp is {age:.0f}s away from now (tolerance {tolerance:.0f}s); replay?"
        )
    try:
        job = json_format.Parse(raw, public_pb2.Job(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise WebhookVerificationError(f"body is not a job: {exc}") from exc
    return Job.from_proto(job)


def job_to_json(job: public_pb2.Job) -> bytes:
    """The webhook body for a job (proto3 JSON)."""
    return json_format.MessageToJson(job, indent=None).encode()
