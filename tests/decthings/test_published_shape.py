"""Code written for decthings-api 0.0.4 runs on modelwire with only its imports rewritten.

`decthings_api.<module>` -> `modelwire.decthings.<module>` (client, client_sync, tensor, event) and
`decthings_api` -> `modelwire.decthings.compat`: every method returns `(result, error)` as in 0.0.4,
on the same engine as the raising clients of `modelwire.decthings`. The code below is written as a
0.0.4 user writes it, sync and async, against the session emulator over loopback. The last test
introspects 0.0.4 itself, in its own venv, and checks our published shape against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import subprocess
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

import modelwire.decthings as package
from modelwire._core import errors as core
from modelwire._core.retry import NO_RETRY
from modelwire.decthings import DecthingsNotFoundError, InvalidParameterError
from modelwire.decthings import compat as published_root
from modelwire.decthings import event as published_event
from modelwire.decthings import tensor as published_tensor
from modelwire.decthings.client import DecthingsClient
from modelwire.decthings.client_sync import DecthingsClientSync
from modelwire.decthings.event import RpcEvent, SubscriptionsRemovedEvent
from modelwire.decthings.tensor import DecthingsTensor
from modelwire.emulator import Emulator

EMBEDDER = "decthings-text-embedder"
REGRESSOR = "decthings-linear-regressor"
MISSING_MODEL = "no-such-model"
ONE_ENTRY = [{"key": "x", "data": [DecthingsTensor([1], "i32", [])]}]
NAMESPACES = tuple(sorted(package.DecthingsClientSync.NAMESPACES))  # the recommended client's
both = pytest.mark.parametrize("kind", ["sync", "async"])


def embed_params(text: str) -> dict[str, Any]:
    return {
        "modelId": EMBEDDER,
        "params": [{"name": "input", "data": [DecthingsTensor([text], "string", [])]}],
    }


def dataset_params() -> dict[str, Any]:
    return {
        "name": f"published-{uuid.uuid4().hex[:8]}",
        "description": "written for decthings-api 0.0.4",
        "keys": [{"name": "x", "rules": {"shape": [], "allowedTypes": ["i32"]}}],
    }


# -- the seed's examples, as 0.0.4 code ---------------------------------------------------------


def test_the_seed_async_example_runs_with_the_import_rewrite(emulator: Emulator, api_key: str) -> None:
    # The seed's async example; only `decthings_api` became `modelwire.decthings` (and the ids and
    # key are filled in). Each call returns a (result, error) tuple, as in 0.0.4.
    client = DecthingsClient(api_key=api_key, http_server_address=emulator.decthings_url)
    outcome: dict[str, Any] = {}

    async def main() -> None:
        get_models_result = await client.model.get_models({})
        evaluate_result = await client.model.evaluate(
            {
                "modelId": EMBEDDER,
                "params": [{"name": "input", "data": [DecthingsTensor(["My input text"], "string", [])]}],
            }
        )
        created, _ = await client.dataset.create_dataset(dataset_params())
        add_entries_result = await client.dataset.add_entries(
            {
                "datasetId": created["datasetId"],
                "keys": [{"key": "x", "data": [DecthingsTensor([7], "i32", [])]}],
            }
        )
        outcome.update(models=get_models_result, evaluate=evaluate_result, add=add_entries_result)
        await client.aclose()

    asyncio.run(main())
    models, err = outcome["models"]
    assert err is None and EMBEDDER in {m["id"] for m in models["models"]}
    evaluated, err = outcome["evaluate"]
    assert err is None
    (output,) = evaluated["success"]["output"]
    assert output["data"][0].shape() == [512]
    added, err = outcome["add"]
    assert err is None and "newDatasetVersionId" in added


def test_the_seed_sync_example_runs_with_the_import_rewrite(emulator: Emulator, api_key: str) -> None:
    # The seed's sync example, without its stray `await`s (a typo there: they cannot run in a def).
    client = DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url)
    try:
        models, err = client.model.get_models({})
        assert err is None and EMBEDDER in {m["id"] for m in models["models"]}
        evaluated, err = client.model.evaluate(embed_params("My input text"))
        assert err is None and evaluated["success"]["output"][0]["data"][0].shape() == [512]
        created, err = client.dataset.create_dataset(dataset_params())
        assert err is None
        added, err = client.dataset.add_entries(
            {
                "datasetId": created["datasetId"],
                "keys": [{"key": "x", "data": [DecthingsTensor([7], "i32", [])]}],
            }
        )
        assert err is None and "newDatasetVersionId" in added
        got, err = client.dataset.get_entries({"datasetId": created["datasetId"], "entries": [0]})
        assert err is None and got["keys"][0]["data"][0]["data"].item() == 7
    finally:
        client.close()


# -- API errors are returned, as in 0.0.4 -------------------------------------------------------


def test_an_api_error_is_the_second_tuple_item_sync(emulator: Emulator, api_key: str) -> None:
    client = DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url)
    try:
        res, err = client.model.evaluate({"modelId": MISSING_MODEL, "params": []})
        assert res is None and err == {"code": "model_not_found"}
        res, err = client.dataset.add_entries({"datasetId": "no-such-dataset", "keys": ONE_ENTRY})
        assert res is None and err is not None and err["code"] == "dataset_not_found"
    finally:
        client.close()
    stranger = DecthingsClientSync(api_key="not-a-key", http_server_address=emulator.decthings_url)
    try:
        assert stranger.model.get_models({}) == (None, {"code": "bad_credentials"})
    finally:
        stranger.close()


def test_an_api_error_is_the_second_tuple_item_async(emulator: Emulator, api_key: str) -> None:
    async def main() -> list[Any]:
        client = DecthingsClient(api_key=api_key, http_server_address=emulator.decthings_url)
        stranger = DecthingsClient(api_key="not-a-key", http_server_address=emulator.decthings_url)
        try:
            return [
                await client.model.evaluate({"modelId": MISSING_MODEL, "params": []}),
                await client.dataset.add_entries({"datasetId": "no-such-dataset", "keys": ONE_ENTRY}),
                await stranger.model.get_models({}),
            ]
        finally:
            await client.aclose()
            await stranger.aclose()

    missing_model, missing_dataset, stranger = asyncio.run(main())
    assert missing_model == (None, {"code": "model_not_found"})
    res, err = missing_dataset
    assert res is None and err["code"] == "dataset_not_found"
    assert stranger == (None, {"code": "bad_credentials"})


@both
def test_an_invalid_entry_comes_back_with_its_parameter_and_reason(
    kind: str, emulator: Emulator, api_key: str
) -> None:
    ok, bad = DecthingsTensor([7], "i32", []), DecthingsTensor([1.5], "f32", [])

    def run(client: Any) -> tuple[Any, Any]:
        created, _ = client.dataset.create_dataset(dataset_params())
        return client.dataset.add_entries(
            {"datasetId": created["datasetId"], "keys": [{"key": "x", "data": [ok, bad]}]}
        )

    res, err = _drive(kind, emulator, api_key, run)
    assert res is None and err["code"] == "invalid_parameter"
    assert err["parameterName"] and err["reason"]


# -- params by keyword, on both shapes ----------------------------------------------------------


@both
def test_params_may_be_passed_by_keyword(kind: str, emulator: Emulator, api_key: str) -> None:
    def run(client: Any) -> list[Any]:
        return [
            client.model.get_models(params={}),
            client.model.evaluate(params=embed_params("by keyword")),
            client.model.evaluate(params={"modelId": MISSING_MODEL, "params": []}),
        ]

    listed, evaluated, missing = _drive(kind, emulator, api_key, run)
    assert listed[1] is None and listed[0]["models"]
    assert evaluated[1] is None and evaluated[0]["success"]["output"][0]["data"][0].shape() == [512]
    assert missing == (None, {"code": "model_not_found"})


@both
def test_the_raising_clients_take_params_by_keyword_too(kind: str, emulator: Emulator, api_key: str) -> None:
    kwargs = {"api_key": api_key, "http_server_address": emulator.decthings_url}
    if kind == "sync":
        with package.DecthingsClientSync(**kwargs) as client:
            assert client.model.get_models(params={})["models"]
            with pytest.raises(DecthingsNotFoundError):
                client.model.evaluate(params={"modelId": MISSING_MODEL, "params": []})
        return

    async def main() -> None:
        async with package.DecthingsClient(**kwargs) as client:
            assert (await client.model.get_models(params={}))["models"]
            with pytest.raises(DecthingsNotFoundError):
                await client.model.evaluate(params={"modelId": MISSING_MODEL, "params": []})

    asyncio.run(main())


def test_both_shapes_share_names_and_signatures_except_what_they_return() -> None:
    raising = package.DecthingsClientSync(api_key="k", http_server_address="http://127.0.0.1:1/v0")
    tupled = DecthingsClientSync(api_key="k", http_server_address="http://127.0.0.1:1/v0")
    try:
        assert package.DecthingsClientSync is not DecthingsClientSync  # two shapes, one engine
        for name in NAMESPACES:
            ours, theirs = getattr(raising, name), getattr(tupled, name)
            methods = {m for m in dir(ours) if not m.startswith("_")}
            assert methods == {m for m in dir(theirs) if not m.startswith("_")}
            for method in methods:
                a, b = inspect.signature(getattr(ours, method)), inspect.signature(getattr(theirs, method))
                assert a.parameters == b.parameters, method
                assert a.parameters["params"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, method
                assert str(b.return_annotation).startswith("tuple["), method
                assert "(None, error)" in (getattr(theirs, method).__doc__ or ""), method
    finally:
        raising.close()
        tupled.close()


# -- what still raises: bad params and transport failures, as in 0.0.4 ---------------------------


@both
def test_a_missing_params_argument_is_a_type_error(kind: str, emulator: Emulator, api_key: str) -> None:
    def run(client: Any) -> None:
        with pytest.raises(TypeError, match="params"):
            client.model.evaluate()

    _drive(kind, emulator, api_key, run, call=False)


@both
def test_params_that_cannot_be_sent_raise_a_usage_error_that_is_a_type_error(
    kind: str, emulator: Emulator, api_key: str
) -> None:
    before = emulator.calls.counts()["Model.getModels"]

    def run(client: Any) -> BaseException:
        with pytest.raises(core.UsageError) as err:
            client.model.get_models(["not", "a", "dict"])
        return err.value

    error = _drive(kind, emulator, api_key, run)
    assert isinstance(error, TypeError)  # what 0.0.4 raises for params it cannot send
    assert "params must be a dict" in str(error)
    assert emulator.calls.counts()["Model.getModels"] == before  # nothing was sent


@both
def test_no_api_key_is_a_configuration_error_before_anything_is_sent(
    kind: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DECTHINGS_API_KEY", raising=False)
    before = emulator.calls.counts()["Model.getModels"]

    def run(client: Any) -> None:
        with pytest.raises(core.ConfigurationError, match="DECTHINGS_API_KEY"):
            client.model.get_models({})

    _drive(kind, emulator, None, run)
    assert emulator.calls.counts()["Model.getModels"] == before


@both
def test_transport_failures_raise_modelwire_errors(kind: str, emulator: Emulator, api_key: str) -> None:
    def unreachable(client: Any) -> None:
        with pytest.raises(core.UnavailableError, match="cannot connect"):
            client.model.get_models({})

    _drive(kind, emulator, api_key, unreachable, http_server_address="http://127.0.0.1:9/v0", retry=NO_RETRY)

    emulator.faults.add("Model.getModels", grpc.StatusCode.UNAVAILABLE, times=1)

    def overloaded(client: Any) -> None:
        with pytest.raises(package.DecthingsHttpError) as err:  # 0.0.4: aiohttp/requests HTTP errors
            client.model.get_models({})
        assert err.value.status == 503

    _drive(kind, emulator, api_key, overloaded, retry=NO_RETRY)


def test_a_split_add_entries_that_failed_part_way_raises_with_what_landed(
    emulator: Emulator, api_key: str
) -> None:
    # 0.0.4 refuses more than 255 blobs; modelwire splits the call. When a later request fails, an
    # error dict could not say which entries are already in, so the error is raised with its summary.
    client = DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url)
    try:
        created, _ = client.dataset.create_dataset(dataset_params())
        data = [DecthingsTensor([i], "i32", []) for i in range(300)]
        data[280] = DecthingsTensor([0.5], "f32", [])
        with pytest.raises(InvalidParameterError) as err:
            client.dataset.add_entries(
                {"datasetId": created["datasetId"], "keys": [{"key": "x", "data": data}]}
            )
        assert err.value.summary is not None and len(err.value.summary.uploaded) == 255
        assert "280" in err.value.summary.failed
        # A split call whose first request fails landed nothing: that is an ordinary error tuple.
        data[280], data[3] = DecthingsTensor([1], "i32", []), DecthingsTensor([0.5], "f32", [])
        res, error = client.dataset.add_entries(
            {"datasetId": created["datasetId"], "keys": [{"key": "x", "data": data}]}
        )
        assert res is None and error is not None and error["code"] == "invalid_parameter"
    finally:
        client.close()


def test_tensors_are_used_as_in_0_0_4() -> None:
    image = published_tensor.DecthingsElementImage("png", b"\x89PNG")
    tensor = DecthingsTensor([image], "image", [])
    back, used = DecthingsTensor.deserialize(tensor.serialize())
    assert used == len(tensor.serialize()) == tensor.serialized_byte_size()
    element = back.item()
    # 0.0.4's elements have format()/data() methods; modelwire's attributes work both ways.
    assert element.format() == element.format == "png" and element.data() == element.data == b"\x89PNG"
    numbers = DecthingsTensor(np.arange(6, dtype=np.float32), "f32", [2, 3])
    (again,) = DecthingsTensor.deserialize_many(numbers.serialize())
    assert again.type() == "f32" and again.shape() == [2, 3] and again.numpy().sum() == 15


# -- events reach listeners as 0.0.4's event classes --------------------------------------------


def _start_training(emulator: Emulator, api_key: str) -> str:
    """A training session on a fresh regressor (set up with the raising client)."""
    with package.DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url) as dt:
        dataset_id = dt.dataset.create_dataset(
            {
                "name": f"train-{uuid.uuid4().hex[:8]}",
                "description": "",
                "keys": [
                    {"name": "input", "rules": {"shape": [2], "allowedTypes": ["f32"]}},
                    {"name": "target", "rules": {"shape": [], "allowedTypes": ["f32"]}},
                ],
            }
        )["datasetId"]
        xs = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
        dt.dataset.add_entries(
            {
                "datasetId": dataset_id,
                "keys": [
                    {"key": "input", "data": [DecthingsTensor(x, "f32", [2]) for x in xs]},
                    {"key": "target", "data": [DecthingsTensor([float(x.sum())], "f32", []) for x in xs]},
                ],
            }
        )
        model_id = dt.model.create_model(
            {"name": "reg", "description": "", "options": {"type": "fromExisting", "modelId": REGRESSOR}}
        )["modelId"]
        source = {"type": "dataset", "datasetId": dataset_id}
        return dt.model.train(
            {
                "modelId": model_id,
                "newStateName": "trained",
                "params": [
                    {"name": "input", "data": {**source, "datasetKey": "input"}},
                    {"name": "target", "data": {**source, "datasetKey": "target"}},
                ],
                "executionLocation": {
                    "type": "temporaryLauncher",
                    "spec": {"cpus": 0.25, "memoryMebibytes": 256},
                },
            }
        )["trainingSessionId"]


def _exited(events: list[Any]) -> bool:
    return any(isinstance(e, RpcEvent) and e.api == "Model" and e.event_name == "exit" for e in events)


def test_events_arrive_as_published_event_objects_sync(emulator: Emulator, api_key: str) -> None:
    session = _start_training(emulator, api_key)
    events: list[Any] = []
    done = threading.Event()

    def listener(event: Any) -> None:
        events.append(event)
        if _exited(events):
            done.set()

    client = DecthingsClientSync(api_key=api_key, http_server_address=emulator.decthings_url)
    try:
        dispose = client.on_event(listener)
        assert client.model.subscribe_to_events({"trainingSessionId": session})[1] is None
        assert done.wait(15), events
        dispose()
    finally:
        client.close()
    assert all(isinstance(e, published_event.DecthingsEvent) for e in events)
    assert events[-1].data["trainingSessionId"] == session


def test_events_arrive_as_published_event_objects_async(emulator: Emulator, api_key: str) -> None:
    session = _start_training(emulator, api_key)
    events: list[Any] = []

    async def main() -> None:
        exited = asyncio.Event()

        def listener(event: Any) -> None:  # called on this loop, as in 0.0.4
            events.append(event)
            if _exited(events):
                exited.set()

        client = DecthingsClient(api_key=api_key, http_server_address=emulator.decthings_url)
        client.on_event(listener)
        _, err = await client.model.subscribe_to_events({"trainingSessionId": session})
        assert err is None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(exited.wait(), 15)
        client.close()  # 0.0.4's close(), inside the running loop

    asyncio.run(main())
    assert _exited(events), events
    assert all(isinstance(e, RpcEvent) for e in events)


def test_lost_subscriptions_are_a_subscriptions_removed_event() -> None:
    from modelwire.decthings._engine import DecthingsEvent as EngineEvent
    from modelwire.decthings._published import published_listener

    seen: list[Any] = []
    relay = published_listener(seen.append)
    relay(EngineEvent("Client", "subscriptionsRemoved", {"subscriptions": [("Model", "s1")]}))
    relay(EngineEvent("Client", "reconnected", {"subscriptions": []}))  # 0.0.4 never reconnects
    relay(EngineEvent("Spawned", "stdout", {"spawnedCommandId": "c", "data": b"hi"}))
    removed, stdout = seen
    assert isinstance(removed, SubscriptionsRemovedEvent) and removed.subscriptions == [("Model", "s1")]
    assert isinstance(stdout, RpcEvent) and (stdout.api, stdout.event_name) == ("Spawned", "stdout")
    assert stdout.data["data"] == b"hi"


# -- the package root and the raising clients -----------------------------------------------------


def test_compat_is_the_package_root_and_the_package_keeps_the_raising_clients() -> None:
    assert set(published_root.__all__) == set(PUBLISHED_ROOT)
    assert published_root.DecthingsClient is DecthingsClient
    assert published_root.DecthingsClientSync is DecthingsClientSync
    assert published_root.DecthingsTensor is published_tensor.DecthingsTensor is package.DecthingsTensor
    assert published_root.RpcEvent is RpcEvent
    # `from modelwire.decthings import DecthingsClient` is still the raising client.
    assert package.DecthingsClient.__module__ == "modelwire.decthings._clients"
    assert not issubclass(DecthingsClient, package.DecthingsClient)


# -- our published shape against decthings-api 0.0.4 itself --------------------------------------

# What decthings_api/__init__.py exports.
PUBLISHED_ROOT = (
    "DecthingsClient",
    "DecthingsClientSync",
    "DecthingsElementAudio",
    "DecthingsElementImage",
    "DecthingsElementVideo",
    "DecthingsEvent",
    "DecthingsTensor",
    "RpcEvent",
    "SubscriptionsRemovedEvent",
)

# Runs in the published venv: prints 0.0.4's public surface as JSON.
_INTROSPECT = r"""
import inspect, json

def params(fn):
    return [
        [p.name, p.kind.name, p.default is not inspect.Parameter.empty]
        for p in inspect.signature(fn).parameters.values()
        if p.name != "self"
    ]

def surface(cls):
    return {
        n: {"params": params(f), "coroutine": inspect.iscoroutinefunction(f)}
        for n, f in vars(cls).items()
        if inspect.isfunction(f) and (not n.startswith("_") or n == "__init__")
    }

import decthings_api
from decthings_api import client, client_sync, event, tensor

out = {"root": sorted(n for n in vars(decthings_api) if not n.startswith("_") and n[0].isupper())}
for module, cls in (("client", client.DecthingsClient), ("client_sync", client_sync.DecthingsClientSync)):
    instance = cls(api_key="k", http_server_address="http://127.0.0.1:1/v0")
    out[module] = {
        "class": cls.__name__,
        "methods": surface(cls),
        "namespaces": {
            name: surface(type(value))
            for name, value in vars(instance).items()
            if type(value).__module__.startswith("decthings_api.rpc_impl")
        },
    }
for mod in (tensor, event):
    out[mod.__name__.split(".")[-1]] = {
        n: surface(c) for n, c in vars(mod).items() if inspect.isclass(c) and c.__module__ == mod.__name__
    }
print(json.dumps(out))
"""


# Deliberate differences, (namespace or class, method): why.
ALLOWED = {
    ("debug", "call_create_model_state"): "0.0.4's `params={}` default fails at once with "
    "KeyError('params'); here params is required, so the mistake is a TypeError at the call",
}


def _published_python() -> Path:
    base = Path(os.environ.get("MODELWIRE_CACHE") or Path.home() / ".cache" / "modelwire").expanduser()
    return base / "venvs" / "decthings" / "bin" / "python"


def _compatible(published: list[list[Any]], ours: inspect.Signature) -> str | None:
    """Why code calling with 0.0.4's parameters would fail on `ours`, or None."""
    mine = [p for p in ours.parameters.values() if p.name != "self"]
    positional = [p.name for p in mine if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in mine}
    for index, (name, kind, has_default) in enumerate(published):
        if kind in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            continue
        if name not in by_name:
            return f"no parameter {name!r}"
        if kind == "POSITIONAL_OR_KEYWORD":
            if by_name[name].kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
                return f"{name!r} cannot be passed by position and by keyword"
            if positional[index : index + 1] != [name]:
                return f"{name!r} is not parameter {index}"
        if has_default and by_name[name].default is inspect.Parameter.empty:
            return f"{name!r} is optional in 0.0.4 and required here"
    known = {name for name, *_ in published}
    for p in mine:
        if (
            p.name not in known
            and p.default is inspect.Parameter.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ):
            return f"extra required parameter {p.name!r}"
    return None


def test_the_published_shape_covers_every_public_method_of_decthings_api_0_0_4() -> None:
    python = _published_python()
    if not python.exists():
        pytest.skip(
            f"decthings-api 0.0.4's venv is missing ({python}); `make compat` builds it "
            "(or set MODELWIRE_CACHE to where it lives)"
        )
    run = subprocess.run(
        [str(python), "-c", _INTROSPECT], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    surface = json.loads(run.stdout)
    assert set(surface["root"]) == set(PUBLISHED_ROOT)
    problems: list[str] = []

    def check(where: str, published: dict[str, Any], ours: Any) -> None:
        for name, spec in published.items():
            if (where.split(".")[-1], name) in ALLOWED:
                continue
            fn = getattr(ours, name, None)
            if fn is None:
                problems.append(f"{where}.{name}: missing")
                continue
            if name != "__init__" and inspect.iscoroutinefunction(fn) != spec["coroutine"]:
                problems.append(f"{where}.{name}: async in one and not the other")
            why = _compatible(spec["params"], inspect.signature(fn))
            if why:
                problems.append(f"{where}.{name}: {why}")

    modules = {"client": DecthingsClient, "client_sync": DecthingsClientSync}
    counted = 0
    for module, ours_cls in modules.items():
        published = surface[module]
        assert published["class"] == ours_cls.__name__
        check(f"{module}.{ours_cls.__name__}", published["methods"], ours_cls)
        instance = ours_cls(api_key="k", http_server_address="http://127.0.0.1:1/v0")
        try:
            assert set(published["namespaces"]) == set(NAMESPACES)
            for namespace, methods in published["namespaces"].items():
                methods.pop("__init__")  # built by the client, never by its users
                check(f"{module}.{namespace}", methods, getattr(instance, namespace))
                counted += len(methods)
        finally:
            instance.close()
    for module, ours_mod in (("tensor", published_tensor), ("event", published_event)):
        for cls_name, methods in surface[module].items():
            ours_cls = getattr(ours_mod, cls_name, None)
            if ours_cls is None:
                problems.append(f"{module}.{cls_name}: missing")
                continue
            # 0.0.4's media elements have format()/data() methods; ours have attributes that may
            # also be called, so the check looks at an element.
            media = cls_name.startswith("DecthingsElement")
            check(f"{module}.{cls_name}", methods, ours_cls("png", b"x") if media else ours_cls)
    assert not problems, "\n".join(problems)
    assert counted == 116 + 114  # 0.0.4's async and sync namespace methods (sync Model lacks two)


# -- driving one 0.0.4-style body on either client --------------------------------------------------


class _Awaiting:
    """Runs a 0.0.4-style body written for the sync client on the async client: each namespace call
    is awaited on the test's own event loop, so the body's code is the same for both."""

    def __init__(self, client: DecthingsClient, loop: asyncio.AbstractEventLoop) -> None:
        self._client, self._loop = client, loop

    def __getattr__(self, name: str) -> Any:
        namespace = getattr(self._client, name)
        loop = self._loop

        class Namespace:
            def __getattr__(self, method: str) -> Callable[..., Any]:
                fn = getattr(namespace, method)
                assert inspect.iscoroutinefunction(fn), method
                return lambda *a, **k: loop.run_until_complete(fn(*a, **k))

        return Namespace()


def _drive(
    kind: str,
    emulator: Emulator,
    api_key: str,
    body: Callable[[Any], Any],
    *,
    call: bool = True,
    **kwargs: Any,
) -> Any:
    kwargs = {"api_key": api_key, "http_server_address": emulator.decthings_url, **kwargs}
    if kind == "sync":
        client = DecthingsClientSync(**kwargs)
        try:
            return body(client)
        finally:
            client.close()
    loop = asyncio.new_event_loop()
    try:
        async_client = DecthingsClient(**kwargs)
        try:
            if not call:
                return body(async_client)  # the body checks binding only; nothing is awaited
            return body(_Awaiting(async_client, loop))
        finally:
            loop.run_until_complete(async_client.aclose())
    finally:
        loop.close()
