"""Runner-backed models: PostModelOutputs handed to a runner through work items.

A model is served by a runner when its `metadata` has ``runner_id`` (emulator convention) or the
PostModelOutputs request sets ``runner_selector.runner.id``. The emulator then does not compute
the outputs: it queues a `RunnerItem` whose ``post_model_outputs_request`` is the request with
``model`` = the stored model, its version and the caller's output overrides, and waits for the
runner's PostRunnerItemOutputs (``runner_item_outputs[0].multi_output_response``), which becomes
the PostModelOutputs response (status and outputs) as it is.

* The runner must exist (PostRunners; runners belong to the model owner's user), else
  RUNNER_DOES_NOT_EXIST. It must be connected: polling now or within `Timing.runner_idle_timeout`
  (5 s), else MODEL_NOT_DEPLOYED at once ("no runner is connected for runner 'x'; start one").
* The caller waits up to `Timing.runner_result_timeout` (60 s), less when its gRPC deadline is
  nearer (answering just before it), then gets RPC_REQUEST_TIMEOUT and the item is withdrawn.
* ListRunnerItems (runner_id; nodepool and compute cluster ids are ignored) is a long poll: it
  returns the runner's queued items at once, or waits up to `Timing.runner_poll_window` (2 s,
  less within the caller's deadline) and returns none. Each item is delivered to one poller.
* PostRunnerItemOutputs answers an item once: RUNNER_ITEM_CANCELLED when its caller stopped
  waiting, RUNNER_INVALID_ARGUMENT for an unknown item or one of another runner.

ProcessRunnerItems is the same work over one bidirectional stream per item, as the published
`ModelRunner` (clarifai_protocol) speaks it: the runner opens the stream with a
PostRunnerItemOutputsRequest naming itself (``runner_id``, status RUNNER_STREAM_START); the
emulator answers with one MultiRunnerItemResponse holding one item (``processing_info``
UNARY_UNARY) as soon as there is work (the stream counts as a connected, polling runner while it
waits); the runner sends its PostRunnerItemOutputsRequest on the stream (answered as
PostRunnerItemOutputs is) and the emulator ends the stream. An item whose stream ends before it is
answered goes back to the front of the queue. A stream for ``control-<runner id>`` (the runner's
control connection) is held open and gets no work (cancellations are not sent on it). Failures
(unknown runner, bad credentials: PAT only) are one MultiRunnerItemResponse with the status.

Both protocols take work from one queue per runner, so a runner may use either, or both at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import grpc

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Route, time_left
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.jobs import Timing
from modelwire.emulator.clarifai.labels import new_id
from modelwire.emulator.clarifai.records import RUNNER, Owner, Records

RunnerKey = tuple[str, str]  # user id, runner id
_REMEMBERED_EXPIRED = 1000
CONTROL_PREFIX = "control-"  # runner_id prefix of a ProcessRunnerItems control connection
_STREAM_CHECK = 1.0  # how often a waiting stream checks that its call is still alive (seconds)


@dataclass
class _Waiting:
    """A PostModelOutputs call waiting for its item's outputs."""

    key: RunnerKey
    response: service_pb2.MultiOutputResponse | None = None


@dataclass
class _Runner:
    queue: deque[service_pb2.RunnerItem] = field(default_factory=deque)
    pollers: int = 0
    last_seen: float = float("-inf")


class RunnerHub:
    def __init__(self, records: Records, timing: Timing) -> None:
        self._records = records
        self._timing = timing
        self._runners: defaultdict[RunnerKey, _Runner] = defaultdict(_Runner)
        self._waiting: dict[str, _Waiting] = {}
        self._expired: OrderedDict[str, None] = OrderedDict()
        self._changed = threading.Condition()
        self._closed = False

    def routes(self) -> dict[str, Route]:
        return {
            "ListRunnerItems": Route(Scope.PAT_USER, self.list_runner_items),
            "PostRunnerItemOutputs": Route(Scope.PAT_USER, self.post_runner_item_outputs),
        }

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _require_runner(self, user_id: str, runner_id: str) -> None:
        self._records.require(RUNNER, Owner(user_id, ""), runner_id, resources_pb2.Runner)

    def _connected(self, runner: _Runner) -> bool:
        return runner.pollers > 0 or time.monotonic() - runner.last_seen <= self._timing.runner_idle_timeout

    def _wait_for(self, ready: Callable[[], bool], timeout: float) -> None:
        """Wait (holding `_changed`) until `ready()`, the timeout, or the emulator closing."""
        self._changed.wait_for(lambda: ready() or self._closed, timeout)

    # -- the predicting side ------------------------------------------------------------------------------

    def predict(
        self, user_id: str, runner_id: str, request: service_pb2.PostModelOutputsRequest
    ) -> service_pb2.MultiOutputResponse:
        """Hand a prediction to a runner and wait for its answer (ApiFailure when there is none)."""
        self._require_runner(user_id, runner_id)
        key = (user_id, runner_id)
        item_id = new_id()
        item = service_pb2.RunnerItem(
            id=item_id,
            description=f"PostModelOutputs of model {request.model_id!r}",
            # The published runner dispatches on the method type.
            processing_info=resources_pb2.ProcessingInfo(
                runner_method_type=resources_pb2.UNARY_UNARY, processing_id=item_id
            ),
            post_model_outputs_request=request,
        )
        timeout = time_left(self._timing.runner_result_timeout)
        with self._changed:
            runner = self._runners[key]
            if not self._connected(runner):
                raise ApiFailure(
                    S.MODEL_NOT_DEPLOYED,
                    f"no runner is connected for runner {runner_id!r}; start one (it polls ListRunnerItems)",
                )
            waiting = self._waiting[item.id] = _Waiting(key)
            runner.queue.append(item)
            self._changed.notify_all()
            self._wait_for(lambda: waiting.response is not None, timeout)
            del self._waiting[item.id]
            if waiting.response is not None:
                return waiting.response
            if item in runner.queue:
                runner.queue.remove(item)
            self._expired[item.id] = None
            while len(self._expired) > _REMEMBERED_EXPIRED:
                self._expired.popitem(last=False)
        raise ApiFailure(
            S.RPC_REQUEST_TIMEOUT,
            f"runner {runner_id!r} did not answer runner item {item.id!r} in time "
            f"(waited up to {self._timing.runner_result_timeout:g} s or the call's deadline)",
        )

    # -- the runner side ----------------------------------------------------------------------------------

    def list_runner_items(
        self, caller: Caller, request: service_pb2.ListRunnerItemsRequest
    ) -> service_pb2.MultiRunnerItemResponse:
        self._require_runner(caller.user_id, request.runner_id)
        timeout = time_left(self._timing.runner_poll_window)
        with self._changed:
            runner = self._runners[(caller.user_id, request.runner_id)]
            runner.pollers += 1
            try:
                self._wait_for(lambda: bool(runner.queue), timeout)
                items = list(runner.queue)
                runner.queue.clear()
            finally:
                runner.pollers -= 1
                runner.last_seen = time.monotonic()
        return service_pb2.MultiRunnerItemResponse(runner_items=items)

    def post_runner_item_outputs(
        self, caller: Caller, request: service_pb2.PostRunnerItemOutputsRequest
    ) -> service_pb2.MultiRunnerItemOutputResponse:
        self._answer(caller.user_id, request)
        return service_pb2.MultiRunnerItemOutputResponse(runner_item_outputs=request.runner_item_outputs)

    def _answer(self, user_id: str, request: service_pb2.PostRunnerItemOutputsRequest) -> None:
        """Give a waiting PostModelOutputs call its runner's answer (ApiFailure when it cannot)."""
        item_id = request.runner_item_id
        with self._changed:
            waiting = self._waiting.get(item_id)
            if waiting is None or waiting.response is not None:
                if item_id in self._expired:
                    raise ApiFailure(
                        S.RUNNER_ITEM_CANCELLED,
                        f"runner item {item_id!r} expired: its PostModelOutputs caller stopped waiting",
                    )
                raise ApiFailure(
                    S.RUNNER_INVALID_ARGUMENT, f"runner item {item_id!r} is unknown or was already answered"
                )
            if waiting.key[0] != user_id or request.runner_id not in ("", waiting.key[1]):
                raise ApiFailure(
                    S.RUNNER_INVALID_ARGUMENT,
                    f"runner item {item_id!r} belongs to runner {waiting.key[1]!r}, "
                    f"not {request.runner_id!r}",
                )
            waiting.response = _response_of(request)
            self._changed.notify_all()

    # -- the runner side, streaming ------------------------------------------------------------------------

    def wake(self) -> None:
        """Let waiting streams check their calls (e.g. one ended)."""
        with self._changed:
            self._changed.notify_all()

    def process_runner_items(
        self,
        authorize: Callable[[service_pb2.PostRunnerItemOutputsRequest], str],
        requests: Iterator[service_pb2.PostRunnerItemOutputsRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[service_pb2.MultiRunnerItemResponse]:
        """Serve one ProcessRunnerItems stream; `authorize` gives the user of its first message."""
        first = next(requests, None)
        if first is None:
            return
        context.add_callback(self.wake)
        context.send_initial_metadata(())  # the runner waits for it before it waits for work
        try:
            user_id = authorize(first)
            runner_id, control = self._stream_runner(user_id, first.runner_id)
            if first.runner_item_id:  # outputs may come on any stream, even its first message
                self._answer(user_id, first)
        except ApiFailure as failure:
            yield service_pb2.MultiRunnerItemResponse(status=failure.status())
            return
        if control:
            self._hold(context)
            return
        yield from self._serve_one(user_id, runner_id, requests, context)

    def _stream_runner(self, user_id: str, runner_id: str) -> tuple[str, bool]:
        """The runner a stream serves, and whether it is that runner's control connection."""
        found = self._records.get(RUNNER, Owner(user_id, ""), runner_id, resources_pb2.Runner)
        if found is None and runner_id.startswith(CONTROL_PREFIX):
            runner_id = runner_id.removeprefix(CONTROL_PREFIX)
            self._require_runner(user_id, runner_id)
            return runner_id, True
        self._require_runner(user_id, runner_id)
        return runner_id, False

    def _hold(self, context: grpc.ServicerContext) -> None:
        with self._changed:
            while context.is_active() and not self._closed:
                self._changed.wait(_STREAM_CHECK)

    def _serve_one(
        self,
        user_id: str,
        runner_id: str,
        requests: Iterator[service_pb2.PostRunnerItemOutputsRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[service_pb2.MultiRunnerItemResponse]:
        """Wait for one item, send it, take the runner's answer; requeue the item if it got none."""
        with self._changed:
            runner = self._runners[(user_id, runner_id)]
            runner.pollers += 1
            try:
                while not runner.queue and context.is_active() and not self._closed:
                    self._changed.wait(_STREAM_CHECK)
                if not runner.queue or not context.is_active() or self._closed:
                    return
                item = runner.queue.popleft()
            finally:
                runner.pollers -= 1
                runner.last_seen = time.monotonic()
        try:
            yield service_pb2.MultiRunnerItemResponse(status=status(S.SUCCESS), runner_items=[item])
            for message in requests:
                if message.runner_item_id:
                    # Expired or unknown: there is nobody to tell (its caller already knows).
                    with contextlib.suppress(ApiFailure):
                        self._answer(user_id, message)
                    if message.runner_item_id == item.id:
                        return
        except grpc.RpcError:
            pass  # the runner went away; the item goes back to the queue
        finally:
            with self._changed:
                runner.last_seen = time.monotonic()
                waiting = self._waiting.get(item.id)
                if waiting is not None and waiting.response is None and item not in runner.queue:
                    runner.queue.appendleft(item)
                    self._changed.notify_all()


def _response_of(request: service_pb2.PostRunnerItemOutputsRequest) -> service_pb2.MultiOutputResponse:
    """The PostModelOutputs response a runner's answer makes."""
    for output in request.runner_item_outputs:
        if output.HasField("multi_output_response"):
            return output.multi_output_response
    given = request.status.details or request.status.description or "none"
    details = f"the runner answered without a multi_output_response (its status: {given})"
    return service_pb2.MultiOutputResponse(status=status(S.RUNNER_PROCESSING_FAILED, details))
