"""modelwire and the published clients in one process, in both import orders, each calling the
same emulator: clavata-sdk 1.1.0, clarifai 12.5.0 (clarifai-grpc 12.6.0) and decthings-api 0.0.4.

Both sides define the same proto names (`clarifai.api.Input`, ...); modelwire's generated code
registers them in its own descriptor pool, so neither import can fail with `duplicate symbol`.
Runs where the published packages are installed (`make test-published`); skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from modelwire.emulator import Emulator

pytest.importorskip("clavata_sdk", reason="the published clients are installed by `make test-published`")
pytest.importorskip("clarifai_grpc", reason="the published clients are installed by `make test-published`")
pytest.importorskip("decthings_api", reason="the published clients are installed by `make test-published`")

PUBLISHED = """
import clavata_sdk, clarifai_grpc.grpc.api.service_pb2
from clarifai.client.user import User as TheirUser
from decthings_api.client_sync import DecthingsClientSync as TheirDecthings
"""
OURS = """
import modelwire.clavata, modelwire.clarifai, modelwire.decthings, modelwire.emulator
"""
CALLS = """
import asyncio, json, os
from clavata_sdk import ClavataClient as TheirClavata, ContentData, EvaluateRequest as TheirRequest
from modelwire.clarifai import User
from modelwire.clavata import ClavataClient, EvaluateRequest
from modelwire.decthings import DecthingsClientSync

env = os.environ
host, port = env["CLAVATA_EMULATOR_HOST"].split(":")
key, user_id, base = env["CLAVATA_API_KEY"], env["CLARIFAI_USER_ID"], env["CLARIFAI_API_BASE"]
out = {}

async def their_evaluate():
    client = TheirClavata(host=host, port=int(port), auth_token=key, secure=False)
    request = TheirRequest(content=[ContentData(text="kill"), ContentData(text="hello")],
                           policy_id="demo-policy", threshold=None)
    return [r.policy_evaluation_report.review_result.outcome async for r in client.evaluate(request=request)]

out["their_clavata"] = sorted(asyncio.run(their_evaluate()))
with ClavataClient(host=host, port=int(port), auth_token=key) as ours:
    reports = ours.evaluate(EvaluateRequest(content=["kill", "hello"], policy_id="demo-policy"))
    out["our_clavata"] = sorted(r.report.outcome.name for r in reports)

out["their_apps"] = sorted(app.id for app in TheirUser(user_id=user_id, base_url=base, pat=key).list_apps())
with User(user_id=user_id, base_url=base, pat=key) as user:
    out["our_apps"] = sorted(app.id for app in user.list_apps())

theirs = TheirDecthings(api_key=key, http_server_address=env["DECTHINGS_HTTP_URL"])
result, error = theirs.model.get_models({})
out["their_models"] = None if error else len(result["models"])
ours = DecthingsClientSync(api_key=key, http_server_address=env["DECTHINGS_HTTP_URL"])
out["our_models"] = len(ours.model.get_models({})["models"])
ours.close()
print(json.dumps(out))
"""


def _run(emulator: Emulator, *parts: str) -> dict[str, object]:
    script = "\n".join(textwrap.dedent(p) for p in parts)
    env = {**os.environ, **emulator.client_env()}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "order", [(PUBLISHED, OURS), (OURS, PUBLISHED)], ids=["published-first", "modelwire-first"]
)
def test_both_import_orders_work_and_both_sides_get_the_same_answers(
    emulator: Emulator, order: tuple[str, str]
) -> None:
    result = _run(emulator, *order, CALLS)
    assert result["their_clavata"] == ["FALSE", "TRUE"]
    assert result["our_clavata"] == ["FALSE", "TRUE"]
    assert result["their_apps"] == result["our_apps"]
    assert result["their_models"] == result["our_models"]


def test_the_generated_messages_live_in_modelwires_own_pool() -> None:
    from clarifai_grpc.grpc.api import resources_pb2 as theirs
    from google.protobuf import descriptor_pool

    from modelwire._gen import POOL
    from modelwire._gen.clarifai.api import resources_pb2 as ours

    assert ours.Input.DESCRIPTOR.full_name == theirs.Input.DESCRIPTOR.full_name == "clarifai.api.Input"
    assert ours.Input.DESCRIPTOR.file.pool is POOL
    assert theirs.Input.DESCRIPTOR.file.pool is descriptor_pool.Default()
    # Same wire format both ways: a message serialised by one side parses on the other.
    mine = ours.Input(id="x", data=ours.Data(text=ours.Text(raw="hello")))
    assert theirs.Input.FromString(mine.SerializeToString()).data.text.raw == "hello"
