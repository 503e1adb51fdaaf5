"""clarifai_predict: clarifai, predict with a built-in model, in batches of 1, 32 and 128.

Both SDKs predict with the emulator's built-in `general-text-classification` (owned by user
`clarifai`, app `main`; any key may use it) on short texts. A round has one phase per batch size:
a loop of sequential predict calls of that many inputs each, every call timed on its own. The
inputs are built once per process (untimed), the same ids and texts on both sides; every response"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.harness.common import BenchError
from bench.harness.contenders import SyncContender, SyncSession
from bench.harness.counting import CallCounter, PhaseClock
from bench.harness.plan import CallBudget, Comparison, Plan, Scenario, ScenarioContext
from bench.harness.samples import Outcome
from bench.scenarios._clarifai import (
    CLARIFAI_SDK_REQUIREMENT,
    SdkRound,
    clarifai_sdk_contender,
    published_module,
)

PREDICT_USER, PREDICT_APP = "clarifai", "main"  # the owner of the emulator's built-in models
PREDICT_MODEL = "general-text-classification"
PREDICT_CALLS = {1: 200, 32: 40, 128: 20}  # calls per phase, by batch size (128: the API's maximum)
PREDICT_QUICK_CALLS = {1: 20, 32: 3, 128: 2}
PREDICT_METHODS = ("PostModelOutputs", "GetModel", "GetModelType", "GetModelVersion")
CLARIFAI_SUCCESS = 10000  # status_code_pb2.SUCCESS (the child has other generated modules than ours)


_REVIEWS = (
    "the pizza was great",
    "terrible flight and a rude crew",
    "my new laptop is not bad at all",
    "the match was boring",
    "lovely sunny weather for the beach",
    "stock prices fell again today",
    "the hotel was fine",
    "an awesome team and a brilliant coach",
    "the app is slow and the code is broken",
    "dinner at the restaurant was delicious",
    "rain all week, what a dreadful holiday",
    "the meeting moved to tuesday",
)


def predict_texts(n: int, seed: int = 20251124) -> list[str]:
    """n short texts (reviews of sorts, with sentiment and topic words); deterministic."""
    rng = random.Random(seed)
    return [f"{rng.choice(_REVIEWS)} ({i})" for i in range(n)]


def predict_phase(batch: int) -> str:
    return f"batch_{batch}"


def predict_calls(ctx: ScenarioContext) -> dict[int, int]:
    """Calls per phase by batch size; --items N makes N batch-1 calls and scales the others alike."""
    if ctx.items is not None:
        scale = ctx.items / PREDICT_CALLS[1]
        return {batch: max(1, round(calls * scale)) for batch, calls in PREDICT_CALLS.items()}
    return dict(PREDICT_QUICK_CALLS if ctx.quick else PREDICT_CALLS)


def predict_requests(calls: dict[int, int]) -> dict[str, list[list[tuple[str, str]]]]:
    """Per phase, the (input id, text) pairs of each call: `calls[b]` calls of b inputs each."""
    texts = predict_texts(max(b * c for b, c in calls.items()))
    return {
        predict_phase(b): [[(f"b{b}-{k * b + j:05d}", texts[k * b + j]) for j in range(b)] for k in range(c)]
        for b, c in calls.items()
    }


def predict_inputs(resources: Any, requests: dict[str, list[list[Any]]]) -> dict[str, list[list[Any]]]:
    """The text Input protos of predict_requests(), from `resources` (a generated resources_pb2 module:
    ours here, clarifai-grpc's in the published SDK's child)."""
    return {
        phase: [
            [
                resources.Input(id=input_id, data=resources.Data(text=resources.Text(raw=text)))
                for input_id, text in batch
            ]
            for batch in batches
        ]
        for phase, batches in requests.items()
    }


def check_predictions(what: str, batch: Sequence[Any], response: Any) -> int:
    """The outputs of one predict call that score `positive` above `negative`; BenchError unless the
    call succeeded with one output per input, in input order."""
    if response.status.code != CLARIFAI_SUCCESS:
        raise BenchError(f"{what}: predict answered {response.status.code} {response.status.description!r}")
    got, sent = [o.input.id for o in response.outputs], [i.id for i in batch]
    if got != sent:
        raise BenchError(f"{what}: {len(got)} outputs for {len(sent)} inputs, or not in input order")
    positive = 0
    for output in response.outputs:
        scores = {c.id: c.value for c in output.data.concepts}
        positive += scores.get("positive", 0.0) > scores.get("negative", 0.0)
    return positive


def clarifai_predict_round(
    clock: PhaseClock, phases: dict[str, list[list[Any]]], predict: Callable[[list[Any]], Any]
) -> Outcome:
    """One round of clarifai_predict, the same for both SDKs (the child runs it too): per phase,
    `predict` once per batch, each call timed; then (untimed) every response is checked. The check
    is the number of outputs scoring positive above negative."""
    inputs = positive = 0
    for name, batches in phases.items():
        count = sum(len(batch) for batch in batches)
        responses = []
        with clock.phase(name, messages=count) as call_seconds:
            for batch in batches:
                start = time.perf_counter()
                responses.append(predict(batch))
                call_seconds.append(time.perf_counter() - start)
        for batch, response in zip(batches, responses, strict=True):
            positive += check_predictions(name, batch, response)
        inputs += count
    return clock.outcome(inputs, positive)


def clarifai_sdk_predict(config: dict[str, Any], counter: CallCounter) -> SdkRound:
    """clarifai_predict's published side (in the child): one Model, built once (its constructor
    calls GetModel: set-up), and `predict(inputs=[Input, ...])` per call, as its users write it."""
    model_class = published_module("clarifai.client.model").Model
    resources = published_module("clarifai_grpc.grpc.api.resources_pb2")
    model = model_class(
        user_id=config["user_id"],
        app_id=config["app_id"],
        model_id=config["model_id"],
        base_url=config["base_url"],
        pat=config["pat"],
    )
    phases = predict_inputs(resources, config["requests"])

    def predict(batch: list[Any]) -> Any:
        return model.predict(inputs=batch)

    return lambda _args: (
        lambda: clarifai_predict_round(PhaseClock(counter, config["server_pid"]), phases, predict)
    )


def clarifai_predict(ctx: ScenarioContext) -> Plan:
    """modelwire's Model.predict against the published clarifai SDK's, batches of 1, 32 and 128."""
    from modelwire._gen.clarifai.api import resources_pb2
    from modelwire.clarifai import Model

    calls = predict_calls(ctx)
    requests = predict_requests(calls)
    phases = list(requests)
    n = sum(b * c for b, c in calls.items())
    server = ctx.emulator()
    base_url = f"http://{server.target}"
    ids = {"user_id": PREDICT_USER, "app_id": PREDICT_APP, "model_id": PREDICT_MODEL}

    def open_modelwire() -> SyncSession:
        counter = CallCounter()
        with counter.counting_channels():  # the Model's channel is made here: no RPC yet
            model = Model(
                model_id=PREDICT_MODEL,
                user_id=PREDICT_USER,
                app_id=PREDICT_APP,
                base_url=base_url,
                pat=server.api_key,
            )
        inputs = predict_inputs(resources_pb2, requests)
        return SyncSession(
            lambda: clarifai_predict_round(PhaseClock(counter, server.pid), inputs, model.predict),
            model.close,
            info={"setup_calls": counter.snapshot()[0]},
        )

    def open_raw_stub() -> SyncSession:
        """The floor of any client's cost: our generated V2 stub, a request template copied per call
        with the batch appended (what the published proto path does), no checks, no wrapping."""
        import grpc

        from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc

        counter = CallCounter()
        with counter.counting_channels():
            channel = grpc.insecure_channel(server.target)
        stub = service_pb2_grpc.V2Stub(channel)
        metadata = (("authorization", f"Key {server.api_key}"),)
        template = service_pb2.PostModelOutputsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=PREDICT_USER, app_id=PREDICT_APP),
            model_id=PREDICT_MODEL,
        )

        def predict(batch: list[Any]) -> Any:
            request = service_pb2.PostModelOutputsRequest()
            request.CopyFrom(template)
            request.inputs.extend(batch)
            return stub.PostModelOutputs(request, metadata=metadata)

        inputs = predict_inputs(resources_pb2, requests)
        return SyncSession(
            lambda: clarifai_predict_round(PhaseClock(counter, server.pid), inputs, predict), channel.close
        )

    published_config = {**ids, "base_url": base_url, "pat": server.api_key, "server_pid": server.pid}
    ours, theirs, raw = "modelwire", "clarifai_sdk", "raw_stub"
    sizes = ", ".join(f"{predict_phase(b)} = {c} calls of {b}" for b, c in calls.items())
    budgets = []
    for b, c in calls.items():
        phase = predict_phase(b)
        budgets += [
            CallBudget(ours, phase, "PostModelOutputs", c, "one per call", least=c),
            CallBudget(ours, phase, "GetModel", 0, "the Model needs no model info to predict"),
            CallBudget(ours, phase, "GetModelType", 0, "nor the model type"),
        ]
    return Plan(
        description=(
            f"predict with the emulator's built-in {PREDICT_USER}/{PREDICT_APP} {PREDICT_MODEL} on short "
            f"texts, sequential calls, one emulator: {sizes}; each call timed (latency), the inputs built "
            "once (untimed), every response checked for one output per input in order. modelwire: "
            f"Model(model_id=..., user_id=..., app_id=...).predict(inputs) (no RPC at construction); "
            "clarifai: Model(...) (GetModel at construction, set-up) then predict(inputs=[Input, ...]). "
            "RPCs counted client-side by the same gRPC interceptor in both processes. Throughput ratio = "
            "clarifai's median phase time / modelwire's."
        ),
        messages=n,
        contenders=[
            SyncContender(raw, "raw V2 stub", open_raw_stub),
            SyncContender(ours, "modelwire Model", open_modelwire),
            clarifai_sdk_contender(ctx, clarifai_sdk_predict, {**published_config, "requests": requests}),
        ],
        # Against the published SDK a reference only: its predict is already one bare stub call
        # (decision 0008); the target is the stub's own ceiling, in throughput and client CPU.
        comparisons=[Comparison(ours, theirs, None, phase=phase) for phase in phases]
        + [Comparison(ours, raw, 0.95, phase=phase, cpu_at_most=1 / 0.95) for phase in phases]
        # the ceiling: how far the published SDK is from the bare stub (no target: a reference)
        + [Comparison(theirs, raw, None, phase=phase) for phase in phases],
        server=server,
        unit="inputs/s",
        item="input",
        details={
            **ids,
            "calls": {predict_phase(b): c for b, c in calls.items()},
            "inputs": {predict_phase(b): b * c for b, c in calls.items()},
            "published": CLARIFAI_SDK_REQUIREMENT,
            "rpc_counts": "client-side, by a gRPC interceptor (CallCounter) in each process",
        },
        call_methods=PREDICT_METHODS,
        budgets=budgets,
    )


SCENARIO = Scenario(
    "clarifai_predict", "clarifai predict, batches of 1, 32 and 128", clarifai_predict, order=40
)
