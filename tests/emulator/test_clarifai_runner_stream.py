"""ProcessRunnerItems, the bidirectional runner stream, over a real gRPC channel: a runner on the
stream gets the work of runner-backed models, from the same queue as ListRunnerItems pollers; the
published `ModelRunner` (clarifai_protocol, in a subprocess) serves a model that our SDK and the
published SDK predict through. Waiting is bounded by attempts, never asserted on time.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.message_factory import GetMessageClass

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.clarifai import Model
from modelwire.emulator import Emulator

KEY = "clarifai-runner-stream-pat"
USER = "demo"
APP = R.UserAppIDSet(user_id=USER, app_id="served")
S = status_code_pb2.StatusCode
V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
METADATA = (("authorization", f"Key {KEY}"),)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=KEY, user_id=USER, content_dirs=[tempfile.gettempdir()]) as emu:
        emu.clarifai.runner_poll_window = 0.2
        yield emu


@pytest.fixture(scope="module")
def base_url(emulator: Emulator) -> str:
    return f"http://127.0.0.1:{emulator.port}"


@pytest.fixture(scope="module")
def stub(emulator: Emulator) -> Iterator[service_pb2_grpc.V2Stub]:
    with grpc.insecure_channel(emulator.address) as channel:
        yield service_pb2_grpc.V2Stub(channel)


def call(stub: service_pb2_grpc.V2Stub, method: str, expect: int = S.SUCCESS, **fields: Any) -> Any:
    request = GetMessageClass(V2.methods_by_name[method].input_type)(**fields)
    response = getattr(stub, method)(request, metadata=METADATA)
    assert response.status.code == expect, (method, response.status)
    return response


@pytest.fixture(scope="module")
def served(stub: service_pb2_grpc.V2Stub) -> None:
    call(stub, "PostApps", user_app_id=R.UserAppIDSet(user_id=USER), apps=[R.App(id=APP.app_id)])


def runner_model(stub: service_pb2_grpc.V2Stub, name: str) -> str:
    """A runner `name` and a model `name` of the app served by it."""
    call(stub, "PostRunners", user_app_id=R.UserAppIDSet(user_id=USER), runners=[R.Runner(id=name)])
    metadata = struct_pb2.Struct()
    metadata.update({"runner_id": name})
    call(stub, "PostModels", user_app_id=APP, models=[R.Model(id=name, metadata=metadata)])
    return name


def poll(check: Callable[[], Any], what: str, attempts: int = 1200, pause: float = 0.05) -> Any:
    for _ in range(attempts):
        result = check()
        if result:
            return result
        time.sleep(pause)
    raise AssertionError(f"gave up waiting for {what}")


def predict(stub: service_pb2_grpc.V2Stub, model_id: str, text: str) -> service_pb2.MultiOutputResponse:
    """PostModelOutputs, retried while no runner is connected yet."""
    request = service_pb2.PostModelOutputsRequest(
        user_app_id=APP, model_id=model_id, inputs=[R.Input(data=R.Data(text=R.Text(raw=text)))]
    )

    def attempt() -> service_pb2.MultiOutputResponse | None:
        response = stub.PostModelOutputs(request, metadata=METADATA)
        return None if response.status.code == S.MODEL_NOT_DEPLOYED else response

    result: service_pb2.MultiOutputResponse = poll(attempt, f"a runner of {model_id!r}")
    return result


def answer(item: service_pb2.RunnerItem, prefix: str) -> service_pb2.RunnerItemOutput:
    outputs = [
        R.Output(
            input=i,
            status=status_pb2.Status(code=S.SUCCESS),
            data=R.Data(text=R.Text(raw=prefix + i.data.text.raw.upper())),
        )
        for i in item.post_model_outputs_request.inputs
    ]
    response = service_pb2.MultiOutputResponse(status=status_pb2.Status(code=S.SUCCESS), outputs=outputs)
    return service_pb2.RunnerItemOutput(multi_output_response=response)


def start_message(runner_id: str) -> service_pb2.PostRunnerItemOutputsRequest:
    return service_pb2.PostRunnerItemOutputsRequest(
        user_app_id=R.UserAppIDSet(user_id=USER),
        runner_id=runner_id,
        nodepool_id="np",
        compute_cluster_id="cc",
        runner_replica_id="replica-1",
        status=status_pb2.Status(code=S.RUNNER_STREAM_START),
    )


class StreamRunner:
    """A runner on the stream, as the published ModelRunner speaks it: one stream per item (open
    with RUNNER_STREAM_START, take the item, send its outputs, half-close). With answer=False it
    drops each item it takes by cancelling the stream."""

    def __init__(self, stub: service_pb2_grpc.V2Stub, runner_id: str, prefix: str = "", answer: bool = True):
        self.stub, self.runner_id, self.prefix, self.answer = stub, runner_id, prefix, answer
        self.items: list[service_pb2.RunnerItem] = []
        self.errors: list[grpc.RpcError] = []
        self._stop = threading.Event()
        self._call: Any = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> StreamRunner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._call is not None:
            self._call.cancel()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            outbox: queue.Queue[service_pb2.PostRunnerItemOutputsRequest | None] = queue.Queue()
            outbox.put(start_message(self.runner_id))
            self._call = call_ = self.stub.ProcessRunnerItems(iter(outbox.get, None), metadata=METADATA)
            if self._stop.is_set():
                call_.cancel()
            try:
                for response in call_:
                    assert response.status.code == S.SUCCESS, response.status
                    for item in response.runner_items:
                        self.items.append(item)
                        if not self.answer:
                            call_.cancel()
                            break
                        outputs = answer(item, self.prefix)
                        message = service_pb2.PostRunnerItemOutputsRequest(
                            user_app_id=R.UserAppIDSet(user_id=USER),
                            runner_id=self.runner_id,
                            runner_item_id=item.id,
                            runner_item_outputs=[outputs],
                            status=status_pb2.Status(code=S.SUCCESS),
                        )
                        outbox.put(message)
                    outbox.put(None)
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.CANCELLED:
                    self.errors.append(exc)
            finally:
                outbox.put(None)


class UnaryRunner:
    """A runner polling ListRunnerItems and answering with PostRunnerItemOutputs."""

    def __init__(self, stub: service_pb2_grpc.V2Stub, runner_id: str, prefix: str):
        self.stub, self.runner_id, self.prefix = stub, runner_id, prefix
        self.items: list[service_pb2.RunnerItem] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> UnaryRunner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        user = R.UserAppIDSet(user_id=USER)
        while not self._stop.is_set():
            for item in call(
                self.stub, "ListRunnerItems", user_app_id=user, runner_id=self.runner_id
            ).runner_items:
                self.items.append(item)
                call(
                    self.stub,
                    "PostRunnerItemOutputs",
                    user_app_id=user,
                    runner_id=self.runner_id,
                    runner_item_id=item.id,
                    runner_item_outputs=[answer(item, self.prefix)],
                )


def texts(response: service_pb2.MultiOutputResponse) -> list[str]:
    assert response.status.code == S.SUCCESS, response.status
    return [o.data.text.raw for o in response.outputs]


# -- the stream ---------------------------------------------------------------------------------------


def test_a_stream_runner_serves_predictions(stub: service_pb2_grpc.V2Stub, served: None) -> None:
    model_id = runner_model(stub, "streamed")
    with StreamRunner(stub, model_id, prefix="s:") as runner:
        assert texts(predict(stub, model_id, "hello")) == ["s:HELLO"]
        assert texts(predict(stub, model_id, "again")) == ["s:AGAIN"]
    assert runner.errors == []
    item = runner.items[0]
    assert item.processing_info.runner_method_type == R.UNARY_UNARY
    assert item.post_model_outputs_request.model_id == model_id
    assert item.post_model_outputs_request.model.model_version.output_info is not None


def test_stream_and_unary_runners_share_one_queue(stub: service_pb2_grpc.V2Stub, served: None) -> None:
    model_id = runner_model(stub, "shared-queue")
    with StreamRunner(stub, model_id, prefix="s:"):
        assert texts(predict(stub, model_id, "one")) == ["s:ONE"]
    with UnaryRunner(stub, model_id, prefix="u:"):
        assert texts(predict(stub, model_id, "two")) == ["u:TWO"]
    with (
        StreamRunner(stub, model_id, prefix="s:") as streamed,
        UnaryRunner(stub, model_id, prefix="u:") as polled,
    ):
        predict(stub, model_id, "warm up")  # both connected from here on
        answers: list[list[str]] = []
        threads = [
            threading.Thread(target=lambda i=i: answers.append(texts(predict(stub, model_id, f"n{i}"))))
            for i in range(12)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(a[0][2:] for a in answers) == sorted(f"N{i}" for i in range(12))
    assert len(streamed.items) + len(polled.items) == 13  # each item went to exactly one runner


def test_an_item_its_stream_drops_goes_back_to_the_queue(stub: service_pb2_grpc.V2Stub, served: None) -> None:
    model_id = runner_model(stub, "dropped")
    result: list[service_pb2.MultiOutputResponse] = []
    with StreamRunner(stub, model_id, answer=False) as dropping:
        waiter = threading.Thread(target=lambda: result.append(predict(stub, model_id, "kept")))
        waiter.start()
        poll(lambda: dropping.items, "the dropping runner to take the item")
    with StreamRunner(stub, model_id, prefix="s:") as good:
        waiter.join(60)
    assert texts(result[0]) == ["s:KEPT"]
    assert good.items[0].id == dropping.items[0].id  # the same item, delivered again


def test_control_connection_is_held_and_gets_no_work(stub: service_pb2_grpc.V2Stub, served: None) -> None:
    model_id = runner_model(stub, "controlled")
    outbox: queue.Queue[service_pb2.PostRunnerItemOutputsRequest | None] = queue.Queue()
    outbox.put(start_message(f"control-{model_id}"))
    control = stub.ProcessRunnerItems(iter(outbox.get, None), metadata=METADATA)
    received: list[Any] = []

    def read() -> None:
        try:
            received.extend(control)
        except grpc.RpcError as exc:
            received.append(exc.code())

    reader = threading.Thread(target=read)
    reader.start()
    with StreamRunner(stub, model_id, prefix="s:"):
        assert texts(predict(stub, model_id, "work")) == ["s:WORK"]
    assert reader.is_alive()  # still held open
    control.cancel()
    reader.join(10)
    assert received == [grpc.StatusCode.CANCELLED]


@pytest.mark.parametrize(
    ("runner_id", "key", "code"),
    [
        ("nobody", KEY, S.RUNNER_DOES_NOT_EXIST),
        ("control-nobody", KEY, S.RUNNER_DOES_NOT_EXIST),
        ("streamed", "wrong-key", S.CONN_KEY_NOT_FOUND),
    ],
)
def test_stream_failures_are_one_status(
    stub: service_pb2_grpc.V2Stub, served: None, runner_id: str, key: str, code: int
) -> None:
    responses = list(
        stub.ProcessRunnerItems(iter([start_message(runner_id)]), metadata=(("authorization", f"Key {key}"),))
    )
    assert [r.status.code for r in responses] == [code]
    assert responses[0].status.req_id and not responses[0].runner_items


def test_app_keys_may_not_open_the_stream(
    emulator: Emulator, stub: service_pb2_grpc.V2Stub, served: None
) -> None:
    app_key = emulator.clarifai.create_app_key(APP.app_id)
    responses = list(
        stub.ProcessRunnerItems(
            iter([start_message("streamed")]), metadata=(("authorization", f"Key {app_key}"),)
        )
    )
    assert [r.status.code for r in responses] == [S.CONN_INSUFFICIENT_SCOPES]


# -- the published ModelRunner, unchanged ----------------------------------------------------------------

PUBLISHED_RUNNER = """
import sys
from clarifai.runners.models.model_class import ModelClass
from clarifai.runners.models.model_runner import ModelRunner


class Upper(ModelClass):
    @ModelClass.method
    def predict(self, text: str) -> str:
        return text.upper()


base_url, pat, user_id, runner_id = sys.argv[1:]
model = Upper()
model.load_model()
ModelRunner(
    model,
    runner_id=runner_id,
    nodepool_id="nodepool",
    compute_cluster_id="cluster",
    user_id=user_id,
    base_url=base_url,
    pat=pat,
    num_parallel_polls=2,
    health_check_port=None,
).start()
"""


@pytest.fixture
def published_runner(stub: service_pb2_grpc.V2Stub, served: None, base_url: str) -> Iterator[str]:
    pytest.importorskip("clarifai.runners.models.model_runner")
    model_id = runner_model(stub, "published-runner")
    process = subprocess.Popen(
        [sys.executable, "-c", PUBLISHED_RUNNER, base_url, KEY, USER, model_id],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield model_id
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        assert process.stderr is not None
        process.stderr.close()


def test_published_model_runner_serves_our_sdk_and_the_published_sdk(
    stub: service_pb2_grpc.V2Stub, base_url: str, published_runner: str
) -> None:
    published_model = pytest.importorskip("clarifai.client.model")
    model_id = published_runner
    assert texts(predict(stub, model_id, "raw stub")) == ["RAW STUB"]  # waits for it to connect

    with Model(model_id=model_id, user_id=USER, app_id=APP.app_id, base_url=base_url, pat=KEY) as ours:
        response = ours.predict_by_bytes(b"from modelwire", input_type="text")
        assert response.outputs[0].data.text.raw == "FROM MODELWIRE"

    theirs = published_model.Model(
        model_id=model_id, user_id=USER, app_id=APP.app_id, base_url=base_url, pat=KEY
    )
    response = theirs.predict_by_bytes(b"from clarifai", input_type="text")
    assert response.outputs[0].data.text.raw == "FROM CLARIFAI"
