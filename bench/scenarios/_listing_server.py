"""A synthetic Clarifai `ListInputs` server for the memory scenario, in its own process
(`bench/run.py --child bench.scenarios._listing_server:main SPEC.json`): an app holding `total`
text inputs (`input-0` ... newest first is not modelled: page p holds ids p*per_page ...), served
page by page as the V2 API numbers them (page 1 first; a short or empty page ends the listing).

Why not the emulator: a million inputs would take it minutes to ingest, and the scenario measures
the client's memory while it pages, not the server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bench.harness.common import HOST
from bench.harness.h2server import Handler, Reply, frame, serve

LIST_INPUTS = "/clarifai.api.V2/ListInputs"
LISTENING = "listing server listening on {}:{}"
SUCCESS = 10000  # status_code_pb2.SUCCESS


def listing_handler(total: int) -> Handler:
    from modelwire._gen.clarifai.api import resources_pb2, service_pb2

    parse = service_pb2.ListInputsRequest.FromString

    def list_inputs(path: str, request: bytes) -> Reply:
        if path != LIST_INPUTS:
            return Reply(code=12, message=f"the listing server serves only {LIST_INPUTS}")  # UNIMPLEMENTED
        asked = parse(request)
        per_page = asked.per_page or 128  # the API's default page size
        first = (max(asked.page, 1) - 1) * per_page
        response = service_pb2.MultiInputResponse()
        response.status.code = SUCCESS
        for n in range(first, min(first + per_page, total)):
            response.inputs.append(
                resources_pb2.Input(
                    id=f"input-{n}", data=resources_pb2.Data(text=resources_pb2.Text(raw=f"text number {n}"))
                )
            )
        framed, _ = frame([response.SerializeToString()])
        return Reply([framed])

    return list_inputs


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    host = spec.get("host", HOST)
    handler = listing_handler(int(spec["total"]))
    asyncio.run(serve(host, handler, lambda port: print(LISTENING.format(host, port), flush=True)))
    return 0
