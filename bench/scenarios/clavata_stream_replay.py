"""clavata_stream_replay: clavata streaming evaluate, replayed: the client's overhead.

The emulator evaluates every item with its policy engine, which keeps its process about 100% busy
at ~10k messages/s: every contender is then capped alike. The replay server records what the
emulator streams for the bench's texts once, at start-up, and then only sends those bytes back.

The contenders are clavata_stream's (_clavata.py); the replay server is _clavata_replay_server.py."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from bench.harness.common import API_KEY, HOST, RUN_PY, STARTUP_TIMEOUT, BenchError, function_name, tail
from bench.harness.plan import Plan, Scenario, ScenarioContext
from bench.harness.processes import ServerProcess
from bench.scenarios._clavata import clavata_items, clavata_plan, clavata_texts
from bench.scenarios._clavata_replay_server import replay_server_main

# Rounds here run ~3x as fast as against the emulator: 10000 items keep a round at ~0.3 s, where
# 2000 (~0.07 s) gave round-to-round spreads of 10-20% on the 2-core reference machine, 10000 ~5-10%.
# clavata_texts() is deterministic: the first 2000 texts are clavata_stream's.
CLAVATA_REPLAY_ITEMS = 10000
_REPLAY_LISTENING = re.compile(r"replay server listening on (\S+):(\d+)")
_REPLAY_RECORDED = re.compile(r"^replay recorded: (\{.*\})$", re.MULTILINE)


def start_replay_server(ctx: ScenarioContext, texts: Sequence[str]) -> tuple[ServerProcess, dict[str, Any]]:
    """The replay server for `texts` in its own process (pinned like the emulator), and what it recorded."""
    spec = ctx.workdir / "replay_spec.json"
    spec.write_text(json.dumps({"texts": list(texts), "host": HOST, "api_key": API_KEY}))
    server = ctx.serve(
        "replay server",
        [sys.executable, str(RUN_PY), "--child", function_name(replay_server_main), str(spec)],
        ready=_REPLAY_LISTENING,
        timeout=STARTUP_TIMEOUT + len(texts) / 1000,  # the recording runs at ~10k items/s
    )
    match = _REPLAY_RECORDED.search(server.log_text())
    if match is None:
        raise BenchError(f"the replay server did not say what it recorded:\n{tail(server.log_path)}")
    recording: dict[str, Any] = json.loads(match.group(1))
    if recording["responses"] != len(texts):
        raise BenchError(
            f"the replay server recorded {recording['responses']} responses for {len(texts)} texts"
        )
    return server, recording


def clavata_stream_replay(ctx: ScenarioContext) -> Plan:
    """The same contenders against the replay server: the client, not the server, is the bottleneck."""
    texts = clavata_texts(clavata_items(ctx, CLAVATA_REPLAY_ITEMS))
    server, recording = start_replay_server(ctx, texts)
    return clavata_plan(
        ctx,
        server,
        texts,
        served_by="a replay server (the emulator's responses, recorded once, sent back as bytes)",
        expected_check=int(recording["true_outcomes"]),
        details={"recording": recording},
        client_bound=True,
    )


SCENARIO = Scenario(
    "clavata_stream_replay", "clavata streaming evaluate, replayed", clavata_stream_replay, order=20
)
