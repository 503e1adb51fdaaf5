"""The results JSON of a scenario (bench/results/<scenario>.json, or --results-dir): the run, the
plan, every round of every contender, the ratios and the RPC budgets."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.harness.measures import Measurements
from bench.harness.plan import Plan, Scenario
from bench.harness.report import cpu_ratio, ratio
from bench.harness.rounds import ContenderResult


def _environment() -> dict[str, Any]:
    import google.protobuf
    import grpc
    from google.protobuf.internal import api_implementation

    from modelwire._version import __version__

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_at_start": load,
        "modelwire": __version__,
        "grpc": grpc.__version__,
        "protobuf": google.protobuf.__version__,
        "protobuf_backend": api_implementation.Type(),
    }


def results_document(
    scenario: Scenario,
    plan: Plan,
    results: dict[str, ContenderResult],
    started: datetime,
    *,
    rounds: int,
    warmup: int,
    pinning_note: str,
) -> dict[str, Any]:
    """What bench/results/<scenario>.json holds for a scenario that ran from `started` until now."""
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "description": plan.description,
        "started": started.isoformat(),
        "seconds": (datetime.now(timezone.utc) - started).total_seconds(),
        "argv": sys.argv[1:],
        "rounds": rounds,
        "warmup_rounds": warmup,
        "messages_per_round": plan.messages,
        "unit": plan.unit,
        "pinning": pinning_note,
        "server": plan.server.name if plan.server else None,
        "expected_check": plan.expected_check,
        "details": plan.details,
        "environment": _environment(),
        "contenders": {key: r.to_json() for key, r in results.items()},
        "ratios": [
            {
                "name": c.name(results),
                "numerator": c.numerator,
                "denominator": c.denominator,
                "phase": c.phase,
                "denominator_phase": c.bottom_phase,
                "value": ratio(results, c),
                "target": c.target,
                "strict": c.strict,
                "cpu_at_most": c.cpu_at_most,
                "result": c.verdict(ratio(results, c), cpu_ratio(results, c)),
                "cpu_per_message_ratio": cpu_ratio(results, c),
            }
            for c in plan.comparisons
        ],
        "budgets": [
            {
                **dataclasses.asdict(b),
                "worst": b.worst(results),
                "fewest": b.fewest(results),
                "result": b.verdict(results),
            }
            for b in plan.budgets
        ],
    }


def measurements_document(
    scenario: Scenario, measured: Measurements, started: datetime, *, rounds: int, pinning_note: str
) -> dict[str, Any]:
    """bench/results/<scenario>.json for a scenario of measures (see bench.harness.measures)."""
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "description": measured.description,
        "started": started.isoformat(),
        "seconds": (datetime.now(timezone.utc) - started).total_seconds(),
        "argv": sys.argv[1:],
        "rounds": rounds,
        "pinning": pinning_note,
        "details": measured.details,
        "environment": _environment(),
        "measures": [m.to_json() for m in measured.measures],
    }


def write_results(results_dir: Path, document: dict[str, Any]) -> Path:
    """`document` as results_dir/<scenario>.json; returns its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    out = results_dir / f"{document['scenario']}.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    return out
