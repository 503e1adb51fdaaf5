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

ProcessRunnerItems (the bidirectional stream of the closed-source clarifai_protocol runner) is not
emulated: like every streaming V2 method here it answers gRPC UNIMPLEMENTED.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Route, time_left
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.jobs import Timing
from modelwire.emulator.clarifai.labels import new_id
from modelwire.emulator.clarifai.records import RUNNER, Owner, Records

RunnerKey = tuple[str, str]  # user id, runner id
_REMEMBERED_EXPIRED = 1000


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
        item = service_pb2.RunnerItem(
            id=new_id(),
            description=f"PostModelOutputs of model {request.model_id!r}",
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
            if waiting.key[0] != caller.user_id or request.runner_id not in ("", waiting.key[1]):
                raise ApiFailure(
                    S.RUNNER_INVALID_ARGUMENT,
                    f"runner item {item_id!r} belongs to runner {waiting.key[1]!r}, "
                    f"not {request.runner_id!r}",
                )
            waiting.response = _response_of(request)
            self._changed.notify_all()
        return service_pb2.MultiRunnerItemOutputResponse(runner_item_outputs=request.runner_item_outputs)


def _response_of(request: service_pb2.PostRunnerItemOutputsRequest) -> service_pb2.MultiOutputResponse:
    """The PostModelOutputs response a runner's answer makes."""
    for output in request.runner_item_outputs:
        if output.HasField("multi_output_response"):
            return output.multi_output_response
    given = request.status.details or request.status.description or "none"
    details = f"the runner answered without a multi_output_response (its status: {given})"
    return service_pb2.MultiOutputResponse(status=status(S.RUNNER_PROCESSING_FAILED, details))
