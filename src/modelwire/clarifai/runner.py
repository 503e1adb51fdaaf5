"""`Runner`: serve a custom model from your own process.

Subclass it, implement `run_input(input, output_info) -> Output`, and call `start()`: it runs
`num_parallel_polls` workers that long-poll the API for work items (ListRunnerItems), run each
input through `run_input`, and post the outputs back (PostRunnerItemOutputs). An exception in
`run_input` becomes that output's failure status (MODEL_PREDICTION_FAILED) and never stops the
runner. `stop()` (or Ctrl-C in a blocking `start()`) cancels the in-flight polls, so it returns
promptly.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

import grpc

from modelwire._core.errors import ApiError
from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire.clarifai._base import BaseClient, client_options, op

log = logging.getLogger("modelwire.clarifai")

POLL_TIMEOUT = 30.0  # a long poll returns earlier when work arrives; stop() cancels it anyway


class Runner(BaseClient):
    """A runner of the user's: subclass, implement `run_input`, then `start()`."""

    def __init__(
        self,
        runner_id: str = "",
        user_id: str = "",
        check_runner_exists: bool = True,
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        num_parallel_polls: int = 4,
        **kwargs: Any,
    ) -> None:
        info = kwargs.pop("runner_info", None)
        super().__init__(
            user_id=user_id or None, base_url=base_url, pat=pat, token=token, **client_options(kwargs)
        )
        self.id = runner_id or (info.id if info is not None else "")
        if not self.id:
            raise ValueError("Runner needs runner_id='...'")
        self.num_parallel_polls = min(max(1, num_parallel_polls), 32)
        if info is None and check_runner_exists:
            info = self._request("GetRunner", runner_id=self.id).runner
        self.runner_info: resources_pb2.Runner = (
            info if info is not None else resources_pb2.Runner(id=self.id)
        )
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._polls: set[Any] = set()
        self.items_done = 0

    def run_input(
        self, input: resources_pb2.Input, output_info: resources_pb2.OutputInfo
    ) -> resources_pb2.Output:
        """Your model: return the Output for one input (`output_info.params` carries the request's params)."""
        raise NotImplementedError("subclass Runner and implement run_input(input, output_info)")

    # -- the work loop --------------------------------------------------------------------------------

    def start(self, blocking: bool = True) -> None:
        """Start the workers; with blocking=True, wait until stop() (or Ctrl-C)."""
        if self._threads:
            raise RuntimeError("this runner is already running")
        self._stopping.clear()
        for index in range(self.num_parallel_polls):
            thread = threading.Thread(target=self._loop, name=f"runner-{self.id}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if blocking:
            try:
                while not self._stopping.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
            finally:
                self.stop()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling and wait for the workers (an item being processed is finished and posted)."""
        self._stopping.set()
        with self._lock:
            for poll in list(self._polls):
                poll.cancel()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    @property
    def running(self) -> bool:
        """Whether any poll worker is still alive (True between `start()` and `stop()`)."""
        return any(t.is_alive() for t in self._threads)

    def _poll(self) -> list[Any]:
        request = op("ListRunnerItems").request_type(user_app_id=self.user_app_id, runner_id=self.id)
        call = self._conn.transport.start_unary(op("ListRunnerItems"), request, timeout=POLL_TIMEOUT)
        with self._lock:
            self._polls.add(call)
        try:
            if self._stopping.is_set():
                call.cancel()
            return list(call.result().runner_items)
        except ApiError as exc:
            if exc.code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED):
                return []
            raise
        except grpc.FutureCancelledError:
            return []
        finally:
            with self._lock:
                self._polls.discard(call)

    def _loop(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                items = self._poll()
                backoff = 0.1
            except ApiError as exc:
                log.warning("runner %s: polling failed, retrying in %.1fs: %s", self.id, backoff, exc)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            for item in items:
                self._serve(item)

    def _serve(self, item: Any) -> None:
        request = item.post_model_outputs_request
        output_info = request.model.model_version.output_info
        outputs = [self._run_one(i, output_info) for i in request.inputs]
        succeeded = sum(o.status.code == status_code_pb2.SUCCESS for o in outputs)
        if succeeded == len(outputs):
            code = status_code_pb2.SUCCESS
        else:
            code = status_code_pb2.MIXED_STATUS if succeeded else status_code_pb2.FAILURE
        response = service_pb2.MultiOutputResponse(status=status_pb2.Status(code=code), outputs=outputs)
        item_output = service_pb2.RunnerItemOutput(multi_output_response=response)
        try:
            self._request(
                "PostRunnerItemOutputs",
                runner_id=self.id,
                runner_item_id=item.id,
                runner_item_outputs=[item_output],
            )
            self.items_done += 1
        except ApiError as exc:
            log.warning("runner %s: could not post outputs of item %s: %s", self.id, item.id, exc)

    def _run_one(
        self, item: resources_pb2.Input, output_info: resources_pb2.OutputInfo
    ) -> resources_pb2.Output:
        try:
            output = self.run_input(item, output_info)
            if not isinstance(output, resources_pb2.Output):
                raise TypeError(f"run_input must return resources_pb2.Output, got {type(output).__name__}")
        except Exception as exc:  # the model's failure belongs in that output, not in the runner
            return resources_pb2.Output(
                input=item,
                status=status_pb2.Status(
                    code=status_code_pb2.MODEL_PREDICTION_FAILED,
                    description=f"run_input failed: {exc}",
                    stack_trace=traceback.format_exception(exc)[-5:],
                ),
            )
        if not output.status.code:
            output.status.code = status_code_pb2.SUCCESS
        if not output.HasField("input"):
            output.input.CopyFrom(item)
        return output

    def __repr__(self) -> str:
        return f"Runner(id={self.id!r}, user_id={self.user_id!r}, running={self.running})"
