"""clarifai_predict_workloads: the predict workloads where the published SDK does extra work.

clarifai_predict holds modelwire to the bare stub on plain batches, where the published SDK is a
bare stub call too. These are the cases its users meet that cost more (issue 14), each a phase, with
the RPCs both sides make:
- `inputs_1000`: 1000 inputs at once. clarifai 12.5.0 refuses more than 128 ("Too many inputs"), so
  its users chunk by hand and call once per chunk, one after another; modelwire's `predict` chunks
  by 128 itself and sends the chunks 4 at a time.
- `by_bytes`: `predict_by_bytes(text)` without `input_type`: clarifai asks the server for the
  model's input types (GetModelType) once per Model, at its first such call (measured: in the
  warm-up, so the timed rounds show none); modelwire tells text from image by the bytes.
- `fresh_model`: `Model(url=...)` then one prediction, per call, as its docs show: clarifai's
  constructor fetches the model (GetModel); modelwire's makes no RPC.
"""

from __future__ import annotations

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
from bench.scenarios.clarifai_predict import (
    CLARIFAI_SUCCESS,
    PREDICT_APP,
    PREDICT_METHODS,
    PREDICT_MODEL,
    PREDICT_USER,
    predict_texts,
)

MANY = 1000  # inputs per call of the inputs_1000 phase
CHUNK = 128  # the API's (and clarifai's) per-call maximum
CALLS = {"inputs_1000": 5, "by_bytes": 100, "fresh_model": 100}
QUICK_CALLS = {"inputs_1000": 1, "by_bytes": 5, "fresh_model": 5}
URL = f"https://clarifai.com/{PREDICT_USER}/{PREDICT_APP}/models/{PREDICT_MODEL}"

# (inputs of one call -> the outputs), per phase: what one SDK does for a call of that phase
Workload = dict[str, Callable[[Any], Sequence[Any]]]


def positives(phase: str, sent: int, outputs: Sequence[Any]) -> int:
    """Outputs scoring positive above negative; BenchError unless every input got a good output."""
    if len(outputs) != sent or any(o.status.code not in (0, CLARIFAI_SUCCESS) for o in outputs):
        raise BenchError(f"{phase}: {len(outputs)} outputs for {sent} inputs, or failed outputs")
    count = 0
    for output in outputs:
        scores = {c.id: c.value for c in output.data.concepts}
        count += scores.get("positive", 0.0) > scores.get("negative", 0.0)
    return count


def workloads_round(clock: PhaseClock, calls: dict[str, list[Any]], work: Workload) -> Outcome:
    """One round, the same on both sides: per phase, `work[phase]` per call (its argument built
    untimed beforehand), then every call's outputs checked."""
    items = positive = 0
    for phase, arguments in calls.items():
        sent = [len(a) if isinstance(a, list) else 1 for a in arguments]
        with clock.phase(phase, messages=sum(sent)):
            results = [work[phase](argument) for argument in arguments]
        for count, outputs in zip(sent, results, strict=True):
            positive += positives(phase, count, outputs)
        items += sum(sent)
    return clock.outcome(items, positive)


def arguments(resources: Any, calls: dict[str, int]) -> dict[str, list[Any]]:
    """Per phase, each call's argument: a list of Input protos (of `resources`, either SDK's
    generated module) for inputs_1000, the text's bytes for the others."""
    texts = predict_texts(MANY * calls["inputs_1000"])
    return {
        "inputs_1000": [
            [
                resources.Input(
                    id=f"m-{k * MANY + j:05d}", data=resources.Data(text=resources.Text(raw=text))
                )
                for j, text in enumerate(texts[k * MANY : (k + 1) * MANY])
            ]
            for k in range(calls["inputs_1000"])
        ],
        "by_bytes": [texts[k].encode() for k in range(calls["by_bytes"])],
        "fresh_model": [texts[k].encode() for k in range(calls["fresh_model"])],
    }


def published_workloads(config: dict[str, Any], counter: CallCounter) -> SdkRound:
    """The published side (in the child), written as its users must."""
    model_class = published_module("clarifai.client.model").Model
    resources = published_module("clarifai_grpc.grpc.api.resources_pb2")
    connection = {"base_url": config["base_url"], "pat": config["pat"]}
    model = model_class(url=URL, **connection)
    calls = arguments(resources, config["calls"])

    def chunked_by_hand(inputs: list[Any]) -> list[Any]:
        outputs = []
        for start in range(0, len(inputs), CHUNK):
            outputs.extend(model.predict(inputs=inputs[start : start + CHUNK]).outputs)
        return outputs

    work: Workload = {
        "inputs_1000": chunked_by_hand,
        "by_bytes": lambda data: model.predict_by_bytes(data).outputs,
        "fresh_model": lambda data: (
            model_class(url=URL, **connection).predict_by_bytes(data, input_type="text").outputs
        ),
    }
    return lambda _args: lambda: workloads_round(PhaseClock(counter, config["server_pid"]), calls, work)


def clarifai_predict_workloads(ctx: ScenarioContext) -> Plan:
    from modelwire._gen.clarifai.api import resources_pb2
    from modelwire.clarifai import Model

    calls = dict(QUICK_CALLS if ctx.quick else CALLS)
    server = ctx.emulator()
    connection = {"base_url": f"http://{server.target}", "pat": server.api_key}

    def open_modelwire() -> SyncSession:
        counter = CallCounter()
        with counter.counting_channels():  # every channel made from here on is counted
            model = Model(url=URL, **connection)
        work: Workload = {
            "inputs_1000": lambda inputs: model.predict(inputs).outputs,
            "by_bytes": lambda data: model.predict_by_bytes(data).outputs,
            "fresh_model": lambda data: (
                Model(url=URL, **connection).predict_by_bytes(data, input_type="text").outputs
            ),
        }
        prepared = arguments(resources_pb2, calls)

        def run() -> Outcome:
            with counter.counting_channels():  # fresh_model's Models make their channels in the round
                return workloads_round(PhaseClock(counter, server.pid), prepared, work)

        return SyncSession(run, model.close)

    ours, theirs = "modelwire", "clarifai_sdk"
    chunks = -(-MANY // CHUNK)
    budgets = [
        CallBudget(
            ours, "inputs_1000", "PostModelOutputs", calls["inputs_1000"] * chunks, "one per chunk of 128"
        ),
        CallBudget(ours, "by_bytes", "GetModelType", 0, "the input type is told from the bytes"),
        CallBudget(
            ours, "by_bytes", "PostModelOutputs", calls["by_bytes"], "one per call", least=calls["by_bytes"]
        ),
        CallBudget(ours, "fresh_model", "GetModel", 0, "a Model needs no model info to predict"),
        CallBudget(
            ours,
            "fresh_model",
            "PostModelOutputs",
            calls["fresh_model"],
            "one per call",
            least=calls["fresh_model"],
        ),
    ]
    published = {**connection, "server_pid": server.pid, "calls": calls}
    return Plan(
        description=(
            f"predict with the emulator's built-in {PREDICT_MODEL}, sequential calls, one emulator: "
            f"inputs_1000 = {calls['inputs_1000']} calls of {MANY} inputs (clarifai: chunked by hand, "
            f"its limit being {CHUNK}); by_bytes = {calls['by_bytes']} predict_by_bytes(text) without "
            f"input_type; fresh_model = {calls['fresh_model']} x Model(url=...) + predict_by_bytes. RPCs "
            "counted client-side by the same gRPC interceptor in both processes."
        ),
        messages=sum(calls["inputs_1000"] * MANY if p == "inputs_1000" else c for p, c in calls.items()),
        contenders=[
            SyncContender(ours, "modelwire Model", open_modelwire),
            clarifai_sdk_contender(ctx, published_workloads, published),
        ],
        comparisons=[Comparison(ours, theirs, 1.0, strict=True, phase=phase) for phase in calls],
        server=server,
        unit="inputs/s",
        item="input",
        details={"calls": calls, "inputs_per_call": MANY, "published": CLARIFAI_SDK_REQUIREMENT},
        call_methods=PREDICT_METHODS,
        budgets=budgets,
    )


SCENARIO = Scenario(
    "clarifai_predict_workloads",
    "clarifai predict, where the published SDK does extra work",
    clarifai_predict_workloads,
    order=45,
)
