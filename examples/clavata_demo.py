"""Clavata on the embedded emulator, offline (the Clavata part of `make demo`, examples/demo.py).

Starts the emulator in-process, streams evaluations of texts and images (one refused), then
creates a job with a webhook that a local listener catches and verifies.
"""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw

from modelwire.clavata import (
    ClavataClient,
    ContentData,
    CreateJobRequest,
    EvaluateRequest,
    EvaluationRefusedError,
    verify_webhook,
)
from modelwire.emulator import Emulator


def picture(fmt: str) -> bytes:
    image = Image.new("RGB", (64, 48), (240, 240, 255))
    ImageDraw.Draw(image).ellipse((8, 8, 40, 40), fill=(220, 60, 60))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def show(label: str, report: Any) -> None:
    matched = ", ".join(f"{name} {score:.2f}" for name, score in report.matches.items()) or "-"
    print(f"  {label:<44} {report.outcome.value:<5} score {report.score:.2f}  matches: {matched}")


class Hook:
    """A local webhook listener on a free port."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.received.append(
                    (self.rfile.read(int(self.headers["Content-Length"])), dict(self.headers))
                )
                self.send_response(204)
                self.end_headers()
                hook.arrived.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/clavata-hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main() -> None:
    with Emulator(api_key="demo-key") as emulator:
        run(emulator)


def run(emulator: Emulator) -> None:
    """The Clavata steps against a running emulator."""
    with ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=emulator.api_key) as client:
        print(f"emulator on {emulator.address}; policies: {', '.join(emulator.clavata.policies.ids)}\n")

        texts = {
            "t1": "Lovely weather for a picnic today",
            "t2": "I will attack you and kill your plants",
            "t3": "We were shooting zombies in a video game",
            "t4": "Grandpa's old crossbow hangs on the wall",
        }
        print("Streaming evaluation of texts against demo-policy:")
        request = EvaluateRequest(
            content=[ContentData(text=t, metadata={"id": k}) for k, t in texts.items()],
            policy_id="demo-policy",
        )
        for response in client.evaluate(request):
            key = response.report.content_metadata["id"]
            show(repr(texts[key][:40]), response.report)

        print("\nStreaming evaluation of images:")
        images = {"photo.png": picture("PNG"), "photo.jpg": picture("JPEG"), "photo.webp": picture("WEBP")}
        request = EvaluateRequest(
            content=[ContentData(image=b, metadata={"file": f}) for f, b in images.items()],
            policy_id="demo-policy",
        )
        for response in client.evaluate(request):
            show(response.report.content_metadata["file"], response.report)

        print("\nA GIF is refused by the prechecks:")
        try:
            list(client.evaluate(EvaluateRequest(content=[picture("GIF")], policy_id="demo-policy")))
        except EvaluationRefusedError as err:
            for refusal in err.refusals:
                print(f"  refused {refusal.content_hash}: {refusal.reason.name} ({refusal.message})")

        print("\nA job with a webhook:")
        hook = Hook()
        job = client.create_job(
            CreateJobRequest(
                content=["buy now, limited offer!!!", "see you at lunch"], policy_id="spam-policy"
            ).add_webhook(hook.url, extra_headers={"Tenant": "demo"})
        )
        print(f"  created job {job.job_uuid}: {job.status.value}")
        if not hook.arrived.wait(10):
            raise SystemExit("the webhook did not arrive")
        body, headers = hook.received[0]
        delivered = verify_webhook(body, headers, emulator.api_key)
        print(f"  webhook received at {hook.url} (X-Webhook-Tenant: {headers.get('X-Webhook-Tenant')})")
        print(f"  signature verified; job {delivered.job_uuid} is {delivered.status.value}")
        for result in delivered.results:
            show(result.content_hash[:44], result.report)
        print(f"\n  webhook body: {json.loads(body)['status']} with {len(delivered.results)} results")
        hook.server.shutdown()


if __name__ == "__main__":
    main()
