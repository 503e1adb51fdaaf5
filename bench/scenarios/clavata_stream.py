"""clavata_stream: one Evaluate stream end to end against the emulator (contenders: _clavata.py)."""

from __future__ import annotations

from bench.harness.plan import Plan, Scenario, ScenarioContext
from bench.scenarios._clavata import clavata_items, clavata_plan, clavata_texts


def clavata_stream(ctx: ScenarioContext) -> Plan:
    """End to end against the emulator: its policy engine runs per item, so it is the bottleneck."""
    texts = clavata_texts(clavata_items(ctx))
    return clavata_plan(ctx, ctx.emulator(), texts, served_by="the emulator (end to end)")


SCENARIO = Scenario("clavata_stream", "clavata streaming evaluate", clavata_stream, order=10)
