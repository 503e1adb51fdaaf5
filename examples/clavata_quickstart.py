"""The Clavata README's snippets, run as written with only the import line changed.

    modelwire serve --port 50051 --api-key dev-key        # in another terminal
    export CLAVATA_EMULATOR_HOST=127.0.0.1:50051 CLAVATA_API_KEY=dev-key
    python examples/clavata_quickstart.py

Against production, unset CLAVATA_EMULATOR_HOST and export your real key instead.
"""

import asyncio
import os

from modelwire.clavata import (  # was: from clavata_sdk import ...
    ClavataClient,
    ContentData,
    CreateJobRequest,
    EvaluateRequest,
    EvaluationRefusedError,
    RefusalReason,
)

POLICY = os.environ.get("CLAVATA_POLICY_ID", "demo-policy")


async def main() -> None:
    client = ClavataClient.create()

    # Async request (a job): returns at once with the job's id and status.
    response = client.create_job(
        CreateJobRequest(content=ContentData(text="I will attack at dawn"), policy_id=POLICY)
    )
    print("created job", response.job_uuid, response.status)

    # Streaming request
    async for response in client.evaluate(EvaluateRequest(content="The quick brown fox", policy_id=POLICY)):
        print(response)

    # Webhooks: Clavata POSTs the job to this URL when it completes (the emulator only calls
    # loopback listeners; see examples/clavata_demo.py for one that catches it).
    hook = os.environ.get("WEBHOOK_URL")
    if hook:
        request = CreateJobRequest(content="The quick brown fox", policy_id=POLICY).add_webhook(url=hook)
        job = client.create_job(request)
        print(job)

    # Dealing with refusal errors: a GIF is not a supported format.
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
    try:
        async for response in client.evaluate(
            EvaluateRequest(content=ContentData(image=gif), policy_id=POLICY)
        ):
            print(response)
    except EvaluationRefusedError as err:
        print("Refused content: ", err.refusals)
        print("First refusal reason: ", err.first_reason)
        print("Refused hashes: ", err.refused_content_hashes)
        if err.first_reason == RefusalReason.UNSUPPORTED_FORMAT:
            print("send PNG, JPEG or WebP instead")
    client.close()


if __name__ == "__main__":
    asyncio.run(main())
