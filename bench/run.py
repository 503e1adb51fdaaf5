"""modelwire benchmarks: our clients against the raw generated stubs and the published SDKs.

    .venv/bin/python bench/run.py                      # every scenario (what `make bench` runs)
    .venv/bin/python bench/run.py --quick              # few items, 3 rounds: a smoke run in seconds
    .venv/bin/python bench/run.py --rounds 11 --items 5000 --scenario clavata_stream
    .venv/bin/python bench/run.py --skip-published     # leave out the published SDKs (no venv is needed)

Each scenario starts its server in its own process, so the server never competes with the clients
for this interpreter's GIL, and stops it when done: the emulator (`python -m modelwire.cli serve`)
for the end-to-end scenarios, or a bench-local replay server that streams responses recorded from
the emulator, so that the client, not the server, is the bottleneck. With two or more CPUs the
server is pinned to the last one and the clients to the others (--no-pin: not).
Every contender is warmed up, then the rounds run interleaved (round-robin, the order rotating each
round) so that drift on the machine hits all contenders alike. Per contender the table shows the
median throughput over the rounds (and its min/max), the client process's CPU time per message and
how busy the server was (per phase, for rounds in parts such as upload then list, together with the
RPCs each phase made); the ratios compare medians from this one run against the targets. A MISS
is reported, not an error: the exit status is 0 unless a server or a required (modelwire or
raw-stub) contender failed. See bench/README.md for how to read the numbers.

Full results go to bench/results/<scenario>.json (bench/results/ is gitignored).

Layout: this file is the entry point only. bench/harness/ holds what every scenario shares (server
processes and pinning, contenders and the interleaved rounds, RPC counting and phase timing, the
table, the JSON, this command line); bench/scenarios/ holds one module per scenario, named as it.
Adding a scenario: one new module in bench/scenarios/ with a function `(ScenarioContext) -> Plan`
that starts its server through the context (`ctx.emulator(...)`, or `ctx.serve(...)` for a server of
its own), builds its contenders (see SyncSession / AsyncSession / SubprocessContender; PhaseClock /
CallCounter for rounds in parts) and the comparisons to report, registered by defining
`SCENARIO = Scenario(name, title, plan, order=...)`; it is discovered, nothing else to edit.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/run.py` puts bench/ on sys.path, not the repo root that holds the `bench` package
# (and `python -I bench/run.py`, as the published SDKs' children run it, puts neither)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness.cli import main

if __name__ == "__main__":
    sys.exit(main(description=__doc__))
