"""Webhook delivery for the Clavata emulator: signed POSTs, retried with backoff, logged.

The body is the job as proto3 JSON; extra headers go out prefixed `X-Webhook-`; the signature
header is made by `modelwire.clavata.webhooks.sign_webhook` with the emulator's API key, so
`verify_webhook(body, headers, api_key)` accepts it.

Webhooks go only to the loopback URL the job named: redirects are not followed (a 3xx answer is
a failed delivery, not retried) and no proxy from the environment is used, so a local listener
cannot send the signed job body off the machine.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire.clavata.webhooks import SIGNATURE_HEADER, job_to_json, sign_webhook

log = logging.getLogger("modelwire.emulator")
PREFIX = "X-Webhook-"


@dataclass
class Delivery:
    """One webhook: where it went, how many attempts it took, how it ended."""

    job_uuid: str
    url: str
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def webhook_headers(extra: dict[str, str]) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "modelwire-emulator"}
    for name, value in extra.items():
        headers[name if name.lower().startswith(PREFIX.lower()) else PREFIX + name] = value
    return headers


class WebhookDispatcher:
    def __init__(self, *, secret: str, attempts: int = 5, backoff: float = 0.2, timeout: float = 5.0) -> None:
        self._secret = secret
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.deliveries: deque[Delivery] = deque(maxlen=10_000)  # the most recent, for inspection
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="clavata-webhooks")
        self._stop = threading.Event()

    def deliver(self, job: public_pb2.Job, url: str, extra_headers: dict[str, str]) -> Delivery:
        delivery = Delivery(job.job_uuid, url)
        self.deliveries.append(delivery)
        body = job_to_json(job)
        headers = webhook_headers(extra_headers)
        self._pool.submit(self._send, delivery, body, headers)
        return delivery

    def _send(self, delivery: Delivery, body: bytes, headers: dict[str, str]) -> None:
        try:
            for attempt in range(1, self.attempts + 1):
                delivery.attempts = attempt
                # Signed per attempt, so a slow retry still carries a fresh timestamp.
                signed = {**headers, SIGNATURE_HEADER: sign_webhook(body, self._secret)}
                request = urllib.request.Request(delivery.url, data=body, headers=signed, method="POST")
                try:
                    with _OPENER.open(request, timeout=self.timeout) as response:
                        delivery.status, delivery.error = response.status, None
                        return
                except urllib.error.HTTPError as exc:
                    exc.close()
                    delivery.status, delivery.error = exc.code, f"HTTP {exc.code}"
                    if 300 <= exc.code < 400:
                        delivery.error += " (redirects are not followed: point the webhook at the final URL)"
                        return
                    if 400 <= exc.code < 500 and exc.code not in (408, 429):
                        return  # the receiver rejected it; repeating will not help
                except (urllib.error.URLError, OSError) as exc:
                    delivery.status, delivery.error = None, str(exc)
                if self._stop.wait(self.backoff * 2 ** (attempt - 1)):
                    return
            log.warning(
                "clavata emulator: webhook for job %s to %s failed: %s",
                delivery.job_uuid,
                delivery.url,
                delivery.error,
            )
        finally:
            delivery.done.set()

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
