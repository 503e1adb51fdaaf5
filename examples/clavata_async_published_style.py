"""Code written for the published async Clavata SDK runs on AsyncClavataClient unchanged
(keyword `request=`, awaited calls, `async for` streams, `await list_jobs(...)` pages).

    export CLAVATA_EMULATOR_HOST=127.0.0.1:50051 CLAVATA_API_KEY=dev-key
    python examples/clavata_async_published_style.py
"""

import asyncio
import os

from modelwire.clavata import (  # was: from clavata_sdk import ...
    AsyncClavataClient,
    ContentData,
    CreateJobRequest,
    EvaluateRequest,
    GetJobRequest,
    ListJobsQueryBuilder,
)

POLICY = os.environ.get("CLAVATA_POLICY_ID", "demo-policy")


async def main() -> None:
    async with AsyncClavataClient.create() as client:
        request = CreateJobRequest(
            content=[ContentData(text="hello"), ContentData(text="kill the lights")],
            policy_id=POLICY,
            wait_for_completion=False,
        )
        job = await client.create_job(request=request)
        print("created", job.job_uuid, job.status)

        done = await client.wait_for_job(job.job_uuid)
        fetched = await client.get_job(request=GetJobRequest(job_uuid=done.job_uuid))
        for result in fetched.results:
            print(result.content_hash, result.report.review_result.outcome, result.matches)

        contents = [
            ContentData(text=t, metadata={"n": str(i)}) for i, t in enumerate(["attack", "calm", "shoot"])
        ]
        async for response in client.evaluate(request=EvaluateRequest(content=contents, policy_id=POLICY)):
            report = response.policy_evaluation_report
            print(report.content_metadata["n"], report.review_result.outcome, report.review_result.score)

        # Paging with the builder (sends page_size and page_token for real).
        builder = ListJobsQueryBuilder().set_status("COMPLETED").set_page_size(2)
        page = await client.list_jobs(request=builder.build())
        print("first page:", len(page.jobs), "jobs; more:", page.next_page_token is not None)
        # ...or just iterate every job lazily:
        total = 0
        async for _job in client.list_jobs(status="COMPLETED", page_size=50):
            total += 1
        print("completed jobs:", total)


if __name__ == "__main__":
    asyncio.run(main())
