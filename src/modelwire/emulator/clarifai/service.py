"""The emulated Clarifai V2 API (`clarifai.api.V2`), served on the emulator's gRPC port.

`ClarifaiEmulator` holds the state (SQLite through `Store`, a per-app search index, a worker pool
for input processing and exports, a files directory for hosted content and export archives) and
serves every unary V2 RPC through one dispatcher that, like the real API:

* authenticates (`authorization: Key <key>` or `x-clarifai-session-token`, see `auth`) and checks
  the RPC's scope: PAT-only RPCs refuse app keys with CONN_INSUFFICIENT_SCOPES; app-scoped RPCs
  need an existing app (CONN_DOES_NOT_EXIST otherwise);
* reports every failure in the response's `status` with gRPC OK: the most specific Clarifai code,
  its standard description, details saying what to change, and a fresh `req_id` (prefixed by the
  client's `x-clarifai-request-id-prefix` when sent);
* answers RPCs that are not emulated (yet) with NOT_IMPLEMENTED in the status.

RPC areas: `catalog` (apps, workflows, modules, runners, user), `datasets` (datasets, dataset
inputs, versions, metrics, exports), `inputs` (inputs, add jobs, search), `labels` (annotations,
concepts), `concept_relations`, `models` (model types, models, versions, training, predictions),
`evaluations`, `workflows` (workflow predictions) and `runners` (work items of runner-backed
models). The Patch* RPCs of plain records (apps, datasets, workflows) share one implementation,
`patching`.
Everything persists, so a file-backed emulator restarts where it stopped; training and
evaluations left unfinished run again.

User ``clarifai``'s resources (the app clarifai/main, its models and workflows) are public: any
valid key may read them, writes are refused; ListModels and ListWorkflows without an app list
across apps (see `public`).

Timing (settable at any time): `train_delay` (each phase of training and evaluation, 0.2 s),
`runner_poll_window` (ListRunnerItems long poll, 2 s), `runner_idle_timeout` (a runner counts as
connected this long after its last poll, 5 s), `runner_result_timeout` (how long PostModelOutputs
waits for a runner, 60 s, and never past the call's deadline).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from modelwire._gen.clarifai.api import resources_pb2, service_pb2, service_pb2_grpc
from modelwire.emulator.clarifai.auth import PAT_ONLY_RPCS, Caller, KeyRing, Scope
from modelwire.emulator.clarifai.catalog import CatalogArea
from modelwire.emulator.clarifai.concept_relations import ConceptRelationsArea
from modelwire.emulator.clarifai.content import (
    FETCHER,
    Fetcher,
    FetchingExecutor,
    Files,
    Hosting,
    with_fetcher,
)
from modelwire.emulator.clarifai.context import CALL_DEADLINE, CALL_METADATA, Context, Route
from modelwire.emulator.clarifai.datasets import DatasetsArea
from modelwire.emulator.clarifai.evaluations import EvaluationsArea
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.files_server import FilesServer
from modelwire.emulator.clarifai.indexing import Indexes
from modelwire.emulator.clarifai.inputs import InputsArea
from modelwire.emulator.clarifai.jobs import Timing
from modelwire.emulator.clarifai.keys import KeyRecords
from modelwire.emulator.clarifai.labels import Labels, LabelsArea
from modelwire.emulator.clarifai.models import ModelsArea
from modelwire.emulator.clarifai.plain_records import ComputeRecords, PlainRecords
from modelwire.emulator.clarifai.public import PublicAccess
from modelwire.emulator.clarifai.records import APP, Owner, Records
from modelwire.emulator.clarifai.registry import Registry
from modelwire.emulator.clarifai.runners import RunnerHub
from modelwire.emulator.clarifai.training import Examples, Trainer
from modelwire.emulator.clarifai.undeclared import UndeclaredV2Methods
from modelwire.emulator.clarifai.views import InputViews
from modelwire.emulator.clarifai.workflows import WorkflowsArea
from modelwire.emulator.ids import uuid4_hex
from modelwire.emulator.store import Store

log = logging.getLogger("modelwire.emulator")

SERVICE = service_pb2.DESCRIPTOR.services_by_name["V2"]
SERVICE_PREFIX = f"/{SERVICE.full_name}/"
RpcFunction = Callable[[Any, grpc.ServicerContext], Message]


def _request_id(metadata: Mapping[str, str]) -> str:
    prefix = metadata.get("x-clarifai-request-id-prefix", "").strip()
    unique = uuid4_hex()
    return f"{prefix}-{unique}" if prefix else unique


class ClarifaiEmulator:
    """State and behaviour of the emulated Clarifai API (one per Emulator).

    `api_key` is a personal access token of `user_id` (also accepted as a session token);
    `create_app_key(app_id)` makes keys scoped to one app. `workers` threads process uploaded
    inputs and build exports.
    """

    def __init__(
        self,
        *,
        store: Store,
        api_key: str,
        user_id: str = "demo",
        workers: int = 4,
        content_dirs: Sequence[Path] = (),
    ) -> None:
        self.user_id = user_id
        records = Records(store)
        files = Files()
        hosting = Hosting(records, files)
        self._fetcher = Fetcher(tuple(content_dirs), hosting)
        self._ctx = Context(
            records=records,
            keys=KeyRing(records, pat=api_key, user_id=user_id),
            files=files,
            hosting=hosting,
            workers=FetchingExecutor(self._fetcher, max_workers=workers, thread_name_prefix="clarifai-work"),
            closed=threading.Event(),
        )
        self.files_server = FilesServer(hosting, files, self._ctx.keys)
        self._public = PublicAccess(self._ctx.keys, self._app_exists)
        # Answers what nothing serves: published V2 methods we do not declare, declared streams.
        self.undeclared = UndeclaredV2Methods(self._ctx.keys, self._app_exists, _request_id)
        self.indexes = Indexes(records)
        labels = Labels(self._ctx)
        self.inputs = InputsArea(self._ctx, labels, self.indexes, InputViews(records, self._ctx.hosting))
        self.datasets = DatasetsArea(self._ctx, self.inputs, labels, self.indexes)
        catalog = CatalogArea(self._ctx, self._app_deleted)
        self.timing = Timing()
        self._registry = registry = Registry(records)
        registry.seed_builtins()
        self._runners = RunnerHub(records, self.timing)
        examples = Examples(records, self._ctx.hosting)
        trainer = Trainer(self._ctx, registry, examples, self.timing)
        evaluations = EvaluationsArea(self._ctx, registry, examples, self.timing)
        self._key_records = KeyRecords(records, self._ctx.keys)
        self._routes: dict[str, Route] = {
            **catalog.routes(),
            **self.datasets.routes(),
            **self.inputs.routes(),
            **LabelsArea(self._ctx, labels, self.indexes).routes(),
            **ConceptRelationsArea(self._ctx).routes(),
            **ModelsArea(self._ctx, registry, trainer, self._runners, self.inputs).routes(),
            **evaluations.routes(),
            **(workflows := WorkflowsArea(records, registry, self._runners)).routes(),
            **self._runners.routes(),
            # Plain records (compute orchestration, API keys): one table-driven mechanism.
            **PlainRecords(records).routes([*ComputeRecords(records).specs(), self._key_records.spec()]),
            **self._key_records.routes(),
        }
        # Workflow nodes must name existing models (PostWorkflows/PatchWorkflows are catalog's).
        self._routes.update(workflows.checking_nodes(self._routes))
        # Resumed once the file host runs: resumed work renders hosted URLs.
        self._resume: tuple[Callable[[], None], ...] = (
            self.inputs.resume,
            trainer.resume,
            evaluations.resume,
        )

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start the file host (hosted content, exports) and resume unfinished work; its base URL."""
        base_url = self._ctx.hosting.base_url = self.files_server.start(host, port)
        resume, self._resume = self._resume, ()
        for step in resume:
            with_fetcher(self._fetcher, step)()
        return base_url

    # -- timing --------------------------------------------------------------------------------------

    @property
    def train_delay(self) -> float:
        return self.timing.train_delay

    @train_delay.setter
    def train_delay(self, seconds: float) -> None:
        self.timing.train_delay = seconds

    @property
    def runner_poll_window(self) -> float:
        return self.timing.runner_poll_window

    @runner_poll_window.setter
    def runner_poll_window(self, seconds: float) -> None:
        self.timing.runner_poll_window = seconds

    @property
    def runner_idle_timeout(self) -> float:
        return self.timing.runner_idle_timeout

    @runner_idle_timeout.setter
    def runner_idle_timeout(self, seconds: float) -> None:
        self.timing.runner_idle_timeout = seconds

    @property
    def runner_result_timeout(self) -> float:
        return self.timing.runner_result_timeout

    @runner_result_timeout.setter
    def runner_result_timeout(self, seconds: float) -> None:
        self.timing.runner_result_timeout = seconds

    # -- wiring --------------------------------------------------------------------------------------

    @staticmethod
    def authenticate(metadata: Mapping[str, str]) -> str | None:
        """For the emulator's guard: always None, since Clarifai reports auth failures in the
        response status (the servicer checks credentials itself)."""
        return None

    def register(self, server: grpc.Server) -> None:
        # The stub declares every method abstract; _V2 sets each unary one on the instance.
        service_pb2_grpc.add_V2Servicer_to_server(_V2(self), server)  # type: ignore[abstract]
        # After the servicer: answers the published V2 methods our protos do not declare.
        server.add_generic_rpc_handlers((self.undeclared,))

    def implemented_methods(self) -> frozenset[str]:
        """The V2 methods this emulator serves; every other one answers NOT_IMPLEMENTED in `status`."""
        return frozenset(self.serving_modules())

    def serving_modules(self) -> dict[str, str]:
        """Each V2 method this emulator serves, and the module whose code answers it (so a reader
        finds where a method lives: docs/clarifai-v2-methods.md lists them)."""
        served = {name: route.handler.__module__ for name, route in self._routes.items()}
        for method in SERVICE.methods:
            overridden = getattr(_V2, method.name) is not getattr(service_pb2_grpc.V2Servicer, method.name)
            if (method.client_streaming or method.server_streaming) and overridden:
                served[method.name] = _STREAM_MODULES.get(method.name, __name__)
        return served

    def process_runner_items(
        self, requests: Iterator[Any], context: grpc.ServicerContext
    ) -> Iterator[service_pb2.MultiRunnerItemResponse]:
        """ProcessRunnerItems, the runners' bidirectional stream (see `runners`); PAT only, the user
        and runner named by its first message."""
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}

        def authorize(first: Any) -> str:
            name, ids = "ProcessRunnerItems", first.user_app_id
            return self._ctx.keys.authorize(metadata, ids, Scope.PAT_USER, name, self._app_exists).user_id

        for response in self._runners.process_runner_items(authorize, requests, context):
            response.status.req_id = _request_id(metadata)
            yield response

    def close(self) -> None:
        # Workers see `closed` and stop early; wait so none writes to a closed store.
        self._ctx.closed.set()
        self.files_server.close()
        self._runners.close()
        self._ctx.workers.shutdown(wait=True, cancel_futures=True)
        self._ctx.files.close()

    def create_app_key(self, app_id: str) -> str:
        """A new API key that may call only the app-scoped RPCs of `app_id` (an existing app).

        The key implies its user and app: requests may leave user_app_id empty, as the legacy
        client does (`ClarifaiApp(api_key=emulator.clarifai.create_app_key("my-app"))`). Keys are
        stored with the app and go when it is deleted. ValueError if the app does not exist."""
        owner = Owner(self.user_id, app_id)
        if self._ctx.records.get(APP, owner, app_id, resources_pb2.App) is None:
            raise ValueError(
                f"app {app_id!r} of user {self.user_id!r} does not exist: create it with PostApps first"
            )
        return self._ctx.keys.create_app_key(app_id)

    def _app_exists(self, owner: Owner) -> bool:
        return self._ctx.records.get(APP, owner, owner.app_id, resources_pb2.App) is not None

    def _app_deleted(self, owner: Owner) -> None:
        self.indexes.drop(owner)
        self.datasets.forget(owner)
        self._registry.forget(owner)
        self._key_records.forget_app(owner)

    # -- dispatch ------------------------------------------------------------------------------------

    def rpc(self, name: str) -> RpcFunction:
        """The servicer function of one unary RPC (NOT_IMPLEMENTED in the status if not emulated)."""
        route = self._routes.get(name)
        if route is None:
            scope = Scope.PAT_USER if name in PAT_ONLY_RPCS else Scope.USER
            route = Route(scope, _not_implemented(name))
        response_class: Any = GetMessageClass(SERVICE.methods_by_name[name].output_type)

        def serve(request: Any, context: grpc.ServicerContext) -> Message:
            metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
            remaining = context.time_remaining()
            deadline = CALL_DEADLINE.set(None if remaining is None else time.monotonic() + remaining)
            fetcher = FETCHER.set(self._fetcher)
            call_metadata = CALL_METADATA.set(metadata)
            response: Any
            try:
                caller = self._authorize(name, route, metadata, request)
                response = route.handler(caller, request)
                if not response.status.code:
                    response.status.CopyFrom(status(S.SUCCESS))
            except ApiFailure as failure:
                response = response_class(status=failure.status())
            except Exception:  # a bug: still a Clarifai-shaped answer, and a log entry to find it
                # No exception text in the answer: it may show paths or data to a remote caller.
                log.exception("clarifai emulator: %s failed", name)
                response = response_class(
                    status=status(
                        S.INTERNAL_UNCATEGORIZED, f"the emulator failed to serve {name}; see its log"
                    )
                )
            finally:
                FETCHER.reset(fetcher)
                CALL_METADATA.reset(call_metadata)
                CALL_DEADLINE.reset(deadline)
            response.status.req_id = _request_id(metadata)
            result: Message = response
            return result

        return serve

    def _authorize(self, name: str, route: Route, metadata: Mapping[str, str], request: Any) -> Caller:
        ids = request.user_app_id
        # Clarifai's public resources (any valid key reads them) and listings across apps.
        public = self._public.caller(name, route.scope, ids, metadata)
        if public is not None:
            return public
        return self._ctx.keys.authorize(metadata, ids, route.scope, name, self._app_exists)


def _not_implemented(name: str) -> Callable[[Caller, Any], Message]:
    def handler(caller: Caller, request: Any) -> Message:
        raise ApiFailure(S.NOT_IMPLEMENTED, f"{name} is not emulated by modelwire's Clarifai emulator")

    return handler


# The streaming methods `_V2` hands to an area, by the area's module.
_STREAM_MODULES = {"ProcessRunnerItems": "modelwire.emulator.clarifai.runners"}


class _V2(service_pb2_grpc.V2Servicer):
    """Every unary V2 method, bound to the emulator's dispatcher; a declared stream that nothing
    serves answers NOT_IMPLEMENTED in the status (see `undeclared`)."""

    def __init__(self, emulator: ClarifaiEmulator) -> None:
        self._emulator = emulator
        for method in SERVICE.methods:
            if not (method.client_streaming or method.server_streaming):
                setattr(self, method.name, emulator.rpc(method.name))
            elif getattr(type(self), method.name) is getattr(service_pb2_grpc.V2Servicer, method.name):
                # A declared stream nothing serves: NOT_IMPLEMENTED in the status, not gRPC UNIMPLEMENTED.
                setattr(self, method.name, emulator.undeclared.declared_stream(method))

    def ProcessRunnerItems(
        self, request_iterator: Iterator[Any], context: grpc.ServicerContext
    ) -> Iterator[service_pb2.MultiRunnerItemResponse]:
        return self._emulator.process_runner_items(request_iterator, context)
