"""clavata_stream_replay: clavata streaming evaluate, replayed: the client's overhead.

The emulator evaluates every item with its policy engine, which keeps its process about 100% busy
at ~10k messages/s: every contender is then capped alike. The replay server records what the
emulator streams for the bench's texts once, at start-up, and then only sends those bytes back.

The contenders are clavata_stream's (_clavata.py); the replay server is _clavata_replay_server.py."""

from __future__ import annotations

from bench.harness.plan import Plan, Scenario, ScenarioContext
from bench.scenarios._clavata import clavata_items, clavata_plan, clavata_texts
from bench.scenarios._clavata_replay_server import start_replay_server

# Rounds here run ~3x as fast as against the emulator: 10000 items keep a round at ~0.3 s, where
# 2000 (~0.07 s) gave round-to-round spreads of 10-20% on the 2-core reference machine, 10000 ~5-10%.
# clavata_texts() is deterministic: the first 2000 texts are clavata_stream's.
CLAVATA_REPLAY_ITEMS = 10000


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
