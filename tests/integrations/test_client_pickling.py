"""Every client pickles as its configuration and reconnects on the other side (what Ray does with
`fn_constructor_kwargs`), and works in a forked child: a pickle round trip then a real call, and a
client built (and used) before `os.fork()` used again in the child. Against the session emulator;
no Ray needed."""

from __future__ import annotations

import asyncio
import collections
import os
import pickle
import subprocess
import sys
import threading
from typing import Any, ClassVar

import aiohttp
import grpc
import pytest

from modelwire import UsageError
from modelwire.clarifai import App, Inputs, Model, User, Workflow
from modelwire.clavata import AsyncClavataClient, ClavataClient
from modelwire.decthings import DecthingsClient, DecthingsClientSync
from modelwire.emulator import Emulator

fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _clavata_call(client: ClavataClient) -> Any:
    return client.create_job(content="I will attack you", policy_id="demo-policy", wait_for_completion=True)


async def _async_clavata_call(client: AsyncClavataClient) -> Any:
    try:
        return await client.create_job(content="hello", policy_id="demo-policy", wait_for_completion=True)
    finally:
        await client.close()


def _builtin_model(base_url: str, api_key: str, **options: Any) -> Model:
    return Model(
        model_id="general-text-classification",
        user_id="clarifai",
        app_id="main",
        base_url=base_url,
        pat=api_key,
        **options,
    )


@pytest.fixture
def base_url(emulator: Emulator) -> str:
    return f"http://127.0.0.1:{emulator.port}"


def test_a_pickled_clavata_client_reconnects(emulator: Emulator, api_key: str) -> None:
    with ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key, timeout=30) as client:
        _clavata_call(client)
        copy = pickle.loads(pickle.dumps(client))
    # The original is closed; the copy has its own channel, settings and key.
    with copy:
        assert copy._t is not client._t
        assert copy._settings.timeout == 30
        assert _clavata_call(copy).results[0].matches == {"Violence": 0.8}
        assert api_key not in repr(copy)


def test_a_pickled_async_clavata_client_reconnects(emulator: Emulator, api_key: str) -> None:
    client = AsyncClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key)
    asyncio.run(_async_clavata_call(client))  # used (and closed) on one event loop
    copy = pickle.loads(pickle.dumps(client))
    assert str(asyncio.run(_async_clavata_call(copy)).status) == "COMPLETED"  # a new loop, a new channel


def test_a_clavata_client_with_channel_credentials_says_why_it_cannot_be_pickled(api_key: str) -> None:
    client = ClavataClient(
        host="127.0.0.1", port=1, auth_token=api_key, secure=True, credentials=grpc.ssl_channel_credentials()
    )
    with client, pytest.raises(UsageError, match="credentials= cannot be pickled"):
        pickle.dumps(client)


def test_pickled_clarifai_objects_reconnect(emulator: Emulator, api_key: str, base_url: str) -> None:
    user = User(user_id=emulator.user_id, base_url=base_url, pat=api_key)
    app = user.create_app("pickled-app")
    model = _builtin_model(base_url, api_key)
    workflow = Workflow(workflow_id="Text", user_id="clarifai", app_id="main", base_url=base_url, pat=api_key)
    inputs = Inputs(user_id=emulator.user_id, app_id="pickled-app", base_url=base_url, pat=api_key)

    user_copy, app_copy, model_copy, workflow_copy, inputs_copy = pickle.loads(
        pickle.dumps((user, app, model, workflow, inputs))
    )
    for original in (user, app, model, workflow, inputs):
        original.close()
    assert isinstance(app_copy, App) and app_copy.app_id == "pickled-app"
    assert "pickled-app" in [a.id for a in user_copy.list_apps()]
    prediction = model_copy.predict_by_bytes(b"What a lovely, happy day", input_type="text")
    assert prediction.outputs[0].data.concepts
    assert workflow_copy.predict_by_bytes(b"a red square", input_type="text").results
    inputs_copy.upload_text("pickled-1", "hello")
    assert [i.id for i in app_copy.inputs().list_inputs()] == ["pickled-1"]
    assert api_key not in repr(model_copy)
    user_copy.delete_app("pickled-app")


def test_pickled_decthings_clients_reconnect(emulator: Emulator, api_key: str) -> None:
    with DecthingsClientSync(
        api_key=api_key, http_server_address=emulator.decthings_url, timeout=20
    ) as client:
        total = client.model.get_models({})["total"]
        copy = pickle.loads(pickle.dumps(client))
    with copy:
        assert copy.model.get_models({})["total"] == total
        assert copy._engine.timeout == 20 and copy._engine.api_key is not client._engine.api_key

    async def call(aclient: DecthingsClient) -> int:
        async with aclient:
            return int((await aclient.model.get_models({}))["total"])

    aclient = DecthingsClient(api_key=api_key, http_server_address=emulator.decthings_url)
    assert asyncio.run(call(pickle.loads(pickle.dumps(aclient)))) == total
    aclient.close()


def test_a_pickled_decthings_client_keeps_having_no_key(
    emulator: Emulator, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = DecthingsClientSync(http_server_address=emulator.decthings_url)
    monkeypatch.setenv("DECTHINGS_API_KEY", api_key)  # the other side's environment does not sneak in
    with pickle.loads(pickle.dumps(client)) as copy:
        assert copy._engine.api_key is None
    client.close()


# -- what the caller gave the client travels with it --------------------------------------------------


class Seen(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Counts calls by method; the count is the class's, so a pickled copy counts into it too."""

    calls: ClassVar[collections.Counter[str]] = collections.Counter()

    def _seen(self, details: Any) -> Any:
        type(self).calls[details.method.rsplit("/", 1)[-1]] += 1
        return details

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._seen(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._seen(details), request)


class Unpicklable(Seen):
    def __init__(self) -> None:
        self.lock = threading.Lock()


def seen_request(request: Any) -> None:  # module level: it pickles by reference
    SEEN_REQUESTS.append(request.method)


SEEN_REQUESTS: list[str] = []


def test_pickled_clients_keep_their_interceptors(emulator: Emulator, api_key: str, base_url: str) -> None:
    Seen.calls.clear()
    clavata = ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key, interceptors=[Seen()])
    model = _builtin_model(base_url, api_key, interceptors=[Seen()])
    clavata_copy, model_copy = pickle.loads(pickle.dumps((clavata, model)))
    clavata.close()
    model.close()
    with clavata_copy, model_copy:
        _clavata_call(clavata_copy)
        model_copy.predict_by_bytes(b"a lovely day", input_type="text")
    assert Seen.calls["CreateJob"] == 1
    assert Seen.calls["PostModelOutputs"] == 1


def test_interceptors_that_do_not_pickle_say_so(emulator: Emulator, api_key: str, base_url: str) -> None:
    with (
        ClavataClient(
            host="127.0.0.1", port=emulator.port, auth_token=api_key, interceptors=[Unpicklable()]
        ) as clavata,
        pytest.raises(UsageError, match=r"ClavataClient built with interceptors= cannot be pickled"),
    ):
        pickle.dumps(clavata)
    with (
        App(
            user_id=emulator.user_id, app_id="x", base_url=base_url, pat=api_key, interceptors=[Unpicklable()]
        ) as app,
        pytest.raises(UsageError, match=r"App built with interceptors= cannot be pickled.*lock"),
    ):
        pickle.dumps(app)


def test_pickled_decthings_clients_keep_their_hooks(emulator: Emulator, api_key: str) -> None:
    SEEN_REQUESTS.clear()
    client = DecthingsClientSync(
        api_key=api_key, http_server_address=emulator.decthings_url, on_request=seen_request
    )
    copy = pickle.loads(pickle.dumps(client))
    client.close()
    with copy:
        copy.model.get_models({})
    assert SEEN_REQUESTS == ["Model.getModels"]
    hooked = DecthingsClientSync(
        api_key=api_key, http_server_address=emulator.decthings_url, on_response=lambda response: None
    )
    with (
        hooked,
        pytest.raises(UsageError, match=r"DecthingsClientSync built with on_response= cannot be pickled"),
    ):
        pickle.dumps(hooked)
    # aiohttp TraceConfigs never pickle: the error says how to trace on the other side instead.
    traced = DecthingsClient(
        api_key=api_key, http_server_address=emulator.decthings_url, trace_configs=[aiohttp.TraceConfig()]
    )
    with pytest.raises(
        UsageError, match=r"trace_configs= cannot be pickled.*modelwire\.otel\.instrument\(\)"
    ):
        pickle.dumps(traced)
    traced.close()


# -- fork ------------------------------------------------------------------------------------------

# The fork scenario runs in a fresh interpreter whose only gRPC is client-side, as in a user's
# process: this pytest process also hosts the session's emulator, whose server threads are inside
# gRPC whenever it forks, and gRPC then skips its fork handlers ("Other threads are currently
# calling into gRPC") — measured on grpcio 1.80.0: a child hung there, never in a client-only process.
FORK_SCENARIO = """
import asyncio, multiprocessing, sys
from modelwire.clarifai import Model, User
from modelwire.clavata import AsyncClavataClient, ClavataClient
from modelwire.decthings import DecthingsClient, DecthingsClientSync

port, base_url, decthings_url, key, user_id = sys.argv[1:6]

def clavata_call(client):
    return client.create_job(content="I will attack you", policy_id="demo-policy", wait_for_completion=True)

async def async_clavata_call(client):
    try:
        return await client.create_job(content="hello", policy_id="demo-policy", wait_for_completion=True)
    finally:
        await client.close()

def in_child(call, results):
    try:
        results.put(("ok", call()))
    except BaseException as exc:
        results.put(("error", repr(exc)))

def forked(call):
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=in_child, args=(call, results), daemon=True)
    child.start()
    try:
        outcome = results.get(timeout=60)
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()
    assert outcome[0] == "ok", outcome
    assert child.exitcode == 0, child.exitcode
    return outcome[1]

clavata = ClavataClient(host="127.0.0.1", port=int(port), auth_token=key)
aclavata = AsyncClavataClient(host="127.0.0.1", port=int(port), auth_token=key)
model = Model(
    model_id="general-text-classification", user_id="clarifai", app_id="main", base_url=base_url, pat=key
)
user = User(user_id=user_id, base_url=base_url, pat=key)
decthings = DecthingsClientSync(api_key=key, http_server_address=decthings_url)
adecthings = DecthingsClient(api_key=key, http_server_address=decthings_url)
# Used in the parent first: channels and connections are open at fork time.
clavata_call(clavata)
model.predict_by_bytes(b"happy", input_type="text")
total = decthings.model.get_models({})["total"]
list(user.list_apps())

assert forked(lambda: str(clavata_call(clavata).status)) == "COMPLETED"
assert forked(lambda: str(asyncio.run(async_clavata_call(aclavata)).status)) == "COMPLETED"
assert forked(lambda: len(model.predict_by_bytes(b"sad", input_type="text").outputs)) == 1
# Paged listings: the child's count is the parent's (nothing is created in between).
assert forked(lambda: len(list(clavata.list_jobs(page_size=5)))) == len(list(clavata.list_jobs(page_size=5)))
assert forked(lambda: len(list(user.list_apps()))) == len(list(user.list_apps()))
assert forked(lambda: decthings.model.get_models({})["total"]) == total
assert forked(lambda: asyncio.run(adecthings.model.get_models({}))["total"]) == total
# ... and the parent's clients still work.
assert str(clavata_call(clavata).status) == "COMPLETED"
assert decthings.model.get_models({})["total"] == total
for client in (clavata, model, user, decthings):
    client.close()
asyncio.run(adecthings.aclose())
print("every client worked in its forked children")
"""


@fork_only
def test_every_client_built_before_fork_works_in_the_child(
    emulator: Emulator, api_key: str, base_url: str
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            FORK_SCENARIO,
            str(emulator.port),
            base_url,
            emulator.decthings_url,
            api_key,
            emulator.user_id,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "every client worked in its forked children"
