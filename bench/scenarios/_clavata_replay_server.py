"""The replay server of clavata_stream_replay, in its own process (`bench/run.py --child
bench.scenarios._clavata_replay_server:replay_server_main SPEC.json`, started by
clavata_stream_replay.start_replay_server): it records what the real emulator streams for the
bench's texts, then serves `Evaluate` by sending those bytes back."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness.common import API_KEY, HOST, RUN_PY, STARTUP_TIMEOUT, BenchError, function_name, tail
from bench.harness.h2server import Handler, Reply, frame, serve
from bench.harness.plan import ScenarioContext
from bench.harness.processes import ServerProcess
from bench.scenarios._clavata import clavata_raw_request

CLAVATA_SERVICE = "clavata.gateway.v1.GatewayService"
CLAVATA_EVALUATE = f"/{CLAVATA_SERVICE}/Evaluate"
LISTENING = "replay server listening on {}:{}"  # start_replay_server waits for this line
_LISTENING = re.compile(r"replay server listening on (\S+):(\d+)")  # LISTENING, as printed
_RECORDED = re.compile(r"^replay recorded: (\{.*\})$", re.MULTILINE)


def record_clavata_stream(texts: Sequence[str], api_key: str = API_KEY) -> list[bytes]:
    """The serialized EvaluateResponses, as on the wire, that the real emulator (in this process,
    stopped afterwards) streams for `texts`."""
    import grpc

    from modelwire._gen.clavata.gateway.v1 import gateway_pb2
    from modelwire.emulator import Emulator

    emulator = Emulator(host=HOST, api_key=api_key).start()
    try:
        with grpc.insecure_channel(emulator.address) as channel:
            evaluate: grpc.UnaryStreamMultiCallable[gateway_pb2.EvaluateRequest, bytes] = (
                channel.unary_stream(
                    CLAVATA_EVALUATE,
                    request_serializer=gateway_pb2.EvaluateRequest.SerializeToString,
                    response_deserializer=None,  # keep the bytes
                )
            )
            return list(
                evaluate(clavata_raw_request(texts)(), metadata=(("authorization", f"Bearer {api_key}"),))
            )
    finally:
        emulator.stop()


def describe_recording(responses: Sequence[bytes]) -> dict[str, int]:
    """What the recorded responses hold: the TRUE outcomes (the rounds' check) and the report shapes."""
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2
    from modelwire._gen.clavata.shared.v1 import public_pb2

    reports = [gateway_pb2.EvaluateResponse.FromString(r).policy_evaluation_report for r in responses]
    return {
        "responses": len(responses),
        "bytes": sum(len(r) for r in responses),
        "true_outcomes": sum(r.review_result.outcome == public_pb2.OUTCOME_TRUE for r in reports),
        "sections": sum(len(r.section_evaluation_reports) for r in reports),
        "assertions": sum(
            len(s.assertion_evaluation_reports) for r in reports for s in r.section_evaluation_reports
        ),
        "label_matches": sum(len(r.label_matches) for r in reports),
        "with_token_usage": sum(r.HasField("token_usage") for r in reports),
    }


def replay_handler(responses: Sequence[bytes]) -> Handler:
    """For a request of n content items, the first n recorded responses as they are; every
    response is framed once, here, so a reply is a slice of one buffer."""
    from modelwire._gen.clavata.gateway.v1 import gateway_pb2

    # Counting the items by parsing the whole request with the generated class (upb, in C) costs
    # ~0.03 us per item; scanning the wire format for field 1 in Python ~0.18 us: the parse it is.
    parse_request = gateway_pb2.EvaluateRequest.FromString
    framed, ends = frame(responses)
    recorded = len(responses)

    def evaluate(path: str, request: bytes) -> Reply:
        if path != CLAVATA_EVALUATE:
            return Reply(
                code=12, message=f"the replay server serves only {CLAVATA_EVALUATE}"
            )  # UNIMPLEMENTED
        wanted = len(parse_request(request).content_data)
        if wanted > recorded:
            return Reply(code=3, message=f"{wanted} content items, but only {recorded} recorded")
        return Reply([memoryview(framed)[: ends[wanted]]])

    return evaluate


def replay_server_main(spec_path: str | Path) -> int:
    """The replay server's process (`run.py --child ...:replay_server_main SPEC.json`, started by
    start_replay_server): record from the emulator, print what was recorded, serve until SIGTERM."""
    spec = json.loads(Path(spec_path).read_text())
    started = time.perf_counter()
    responses = record_clavata_stream(spec["texts"], spec["api_key"])
    summary: dict[str, Any] = {**describe_recording(responses), "seconds": time.perf_counter() - started}
    print(f"replay recorded: {json.dumps(summary)}", flush=True)
    gc.collect()
    host = spec["host"]
    asyncio.run(
        serve(host, replay_handler(responses), lambda port: print(LISTENING.format(host, port), flush=True))
    )
    return 0


def start_replay_server(ctx: ScenarioContext, texts: Sequence[str]) -> tuple[ServerProcess, dict[str, Any]]:
    """The replay server for `texts` in its own process (pinned like the emulator), and what it recorded."""
    spec = ctx.workdir / "replay_spec.json"
    spec.write_text(json.dumps({"texts": list(texts), "host": HOST, "api_key": API_KEY}))
    server = ctx.serve(
        "replay server",
        [sys.executable, str(RUN_PY), "--child", function_name(replay_server_main), str(spec)],
        ready=_LISTENING,
        timeout=STARTUP_TIMEOUT + len(texts) / 1000,  # the recording runs at ~10k items/s
    )
    match = _RECORDED.search(server.log_text())
    if match is None:
        raise BenchError(f"the replay server did not say what it recorded:\n{tail(server.log_path)}")
    recording: dict[str, Any] = json.loads(match.group(1))
    if recording["responses"] != len(texts):
        raise BenchError(
            f"the replay server recorded {recording['responses']} responses for {len(texts)} texts"
        )
    return server, recording
