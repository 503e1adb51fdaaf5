"""The emulator: local servers speaking each provider's real wire protocol on real ports.

    with Emulator(api_key="dev-key") as emu:        # gRPC on 127.0.0.1:<free port>
        client = ClavataClient(host="127.0.0.1", port=emu.port, auth_token="dev-key")

    with Emulator(api_key="dev-key", http_port=0) as emu:   # plus Decthings over HTTP/WebSocket
        emu.decthings_url, emu.decthings_ws_url            # http://127.0.0.1:Q/v0, ws://.../v0/ws

Every gRPC call passes a guard that checks credentials (UNAUTHENTICATED otherwise), applies injected
faults (`emu.faults`) and records the call and its final status (`emu.calls`); the Decthings server
does the same for its calls, named `/Decthings/<Api>.<method>`.
"""

from __future__ import annotations

import logging
import secrets
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

from modelwire.emulator.clarifai.content import content_roots
from modelwire.emulator.clarifai.service import SERVICE_PREFIX as CLARIFAI_PREFIX
from modelwire.emulator.clarifai.service import ClarifaiEmulator
from modelwire.emulator.clavata.policy import PolicyBook
from modelwire.emulator.clavata.service import ClavataEmulator
from modelwire.emulator.decthings import DecthingsEmulator
from modelwire.emulator.faults import CallLog, CallRecord, Fault, FaultInjector
from modelwire.emulator.store import Store

log = logging.getLogger("modelwire.emulator")

Authenticator = Callable[[Mapping[str, str]], "str | None"]


class _Guard(grpc.ServerInterceptor):
    """Auth, fault injection and the call log, around every handler."""

    def __init__(self, auth: dict[str, Authenticator], faults: FaultInjector, calls: CallLog) -> None:
        self._auth = auth
        self._faults = faults
        self._calls = calls

    def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        method: str = details.method
        metadata = {k: v for k, v in details.invocation_metadata if isinstance(v, str)}
        check = next((fn for prefix, fn in self._auth.items() if method.startswith(prefix)), None)
        denied = check(metadata) if check is not None else None
        fault = self._faults.take(method) if denied is None else None
        kwargs = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method, denied, fault), **kwargs
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, method, denied, fault), **kwargs
            )
        if handler.stream_stream is not None:
            return _parsed_by_the_handler(handler)
        return handler

    def _begin(
        self, method: str, context: grpc.ServicerContext, denied: str | None, fault: Fault | None
    ) -> CallRecord:
        record = self._calls.start(method)
        # Fires when the RPC ends for any reason; first finish() wins, so it marks client cancels.
        context.add_callback(lambda: self._calls.finish(record, "CANCELLED"))
        if denied is not None:
            self._calls.finish(record, "UNAUTHENTICATED")
            context.abort(grpc.StatusCode.UNAUTHENTICATED, denied)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.after_messages == 0 and fault.code != grpc.StatusCode.OK:
                self._calls.finish(record, fault.code.name)
                fault.abort(context)
        return record

    def _end(self, record: CallRecord, context: grpc.ServicerContext, failed: bool) -> None:
        code = context.code() if hasattr(context, "code") else None
        if isinstance(code, grpc.StatusCode):
            self._calls.finish(record, code.name)
        else:
            self._calls.finish(record, "UNKNOWN" if failed else "OK")

    def _unary(self, inner: Any, method: str, denied: str | None, fault: Fault | None) -> Any:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            record = self._begin(method, context, denied, fault)
            try:
                response = inner(request, context)
            except BaseException:
                self._end(record, context, failed=True)
                raise
            self._end(record, context, failed=False)
            return response

        return handle

    def _stream(self, inner: Any, method: str, denied: str | None, fault: Fault | None) -> Any:
        def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            record = self._begin(method, context, denied, fault)
            try:
                for item in inner(request, context):
                    if fault is not None and fault.after_messages and record.messages == fault.after_messages:
                        # Abort mid-stream: the client has already received `after_messages` items.
                        self._calls.finish(record, fault.code.name)
                        fault.abort(context)
                    record.messages += 1
                    yield item
            except GeneratorExit:  # the client went away mid-stream
                self._calls.finish(record, "CANCELLED")
                raise
            except BaseException:
                self._end(record, context, failed=True)
                raise
            self._end(record, context, failed=False)

        return handle


def _parsed_by_the_handler(handler: Any) -> Any:
    """A bidirectional handler whose requests are parsed inside it, not by grpcio: a request
    stream that fails to parse in grpcio (e.g. a length past the end) leaves a call that keeps
    `server.stop()` waiting forever (grpcio 1.85); failing it from the handler ends it cleanly,
    with the status grpcio would have sent."""
    parse = handler.request_deserializer

    def handle(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[Any]:
        def parsed() -> Iterator[Any]:
            for raw in requests:
                try:
                    message = parse(raw)
                except Exception:  # any parse failure is the client's; say so as grpcio does
                    context.abort(grpc.StatusCode.INTERNAL, "Exception deserializing request!")
                yield message

        yield from handler.stream_stream(parsed(), context)

    return grpc.stream_stream_rpc_method_handler(
        handle, request_deserializer=None, response_serializer=handler.response_serializer
    )


class PortInUseError(OSError):
    """The emulator cannot listen on a port (in use, or not allowed)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        super().__init__(
            f"port {port} is in use (cannot listen on {host}:{port}); "
            "pass --port 0 (port=0) for a free port, or another port"
        )


def _check_free(host: str, port: int | None) -> None:
    """PortInUseError when host:port cannot be bound (checked first, so the user gets our one-line
    message rather than gRPC's native log)."""
    if not port:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUseError(host, port) from exc


class Emulator:
    """Local Clavata and Clarifai (gRPC, on `port`) and Decthings (HTTP + WebSocket, on `http_port`).

    Arguments mirror `modelwire serve`: host, port (0 = any free port), http_port (the Decthings
    server: None = not started, 0 = any free port; `.http_port` is the bound one), api_key
    (generated when omitted: see `.api_key`), user_id, db (SQLite path or ":memory:"),
    clavata_policies (a YAML path or a PolicyBook; the shipped demo policies when omitted),
    clavata_job_delay (seconds a job stays RUNNING), webhook_backoff (first retry delay),
    decthings_training_step_delay (pause before each Decthings training step, so events are seen),
    content_dirs (directories whose files may be named by file:// content URLs; none by default,
    so file:// is refused and a served emulator never reads the host's files). Clarifai hosted
    content and exports are served over HTTP on `files_url` (any free port), with the key.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        http_port: int | None = None,
        api_key: str | None = None,
        user_id: str = "demo",
        db: str | Path = ":memory:",
        clavata_policies: str | Path | PolicyBook | None = None,
        clavata_job_delay: float = 0.0,
        webhook_backoff: float = 0.2,
        max_workers: int = 32,
        decthings_training_step_delay: float = 0.04,
        content_dirs: Sequence[str | Path] = (),
    ) -> None:
        self.host = host
        # file:// content is read only under these (none by default: file:// is refused).
        self.content_dirs = content_roots(content_dirs)
        self.requested_port = port
        self.requested_http_port = http_port
        self.http_port = http_port  # the bound port once started
        self.key_generated = api_key is None
        self.api_key = api_key or "mw-" + secrets.token_urlsafe(18)
        self.user_id = user_id
        self.store = Store(db)
        self.faults = FaultInjector()
        self.calls = CallLog()
        if isinstance(clavata_policies, PolicyBook):
            book = clavata_policies
        elif clavata_policies is not None:
            book = PolicyBook.from_file(clavata_policies)
        else:
            book = PolicyBook.default()
        self.clavata = ClavataEmulator(
            store=self.store,
            policies=book,
            api_key=self.api_key,
            job_delay=clavata_job_delay,
            webhook_backoff=webhook_backoff,
            content_dirs=self.content_dirs,
        )
        self.clarifai = ClarifaiEmulator(
            store=self.store, api_key=self.api_key, user_id=user_id, content_dirs=self.content_dirs
        )
        self.decthings = DecthingsEmulator(
            store=self.store,
            api_key=self.api_key,
            user_id=user_id,
            faults=self.faults,
            calls=self.calls,
            training_step_delay=decthings_training_step_delay,
        )
        self._max_workers = max_workers
        self._server: grpc.Server | None = None
        self.port = 0
        self.files_url = ""

    @property
    def address(self) -> str:
        """`host:port` of the gRPC server (Clavata and Clarifai); valid once started."""
        return f"{self.host}:{self.port}"

    @property
    def decthings_url(self) -> str:
        """The Decthings HTTP base URL, `http://host:Q/v0` (the server runs when http_port is set)."""
        return f"http://{self._decthings_address()}/v0"

    @property
    def decthings_ws_url(self) -> str:
        """The Decthings WebSocket URL, `ws://host:Q/v0/ws`."""
        return f"ws://{self._decthings_address()}/v0/ws"

    def _decthings_address(self) -> str:
        if not self.decthings.running:
            raise RuntimeError(
                "the Decthings server is not running: start the Emulator with http_port (0 = any)"
            )
        return f"{self.host}:{self.http_port}"

    def start(self) -> Emulator:
        """Bind the ports and start serving (a second call does nothing); `with Emulator(...)` calls it.

        Returns:
            The emulator itself, so `emu = Emulator(...).start()` works.

        Raises:
            PortInUseError: A requested port cannot be bound (pass 0 for a free one).
        """
        if self._server is not None:
            return self
        server = grpc.server(
            ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="emulator-grpc"),
            interceptors=[_Guard(self._authenticators(), self.faults, self.calls)],
            options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 64 * 2**20)],
        )
        self.clavata.register(server)
        self.clarifai.register(server)
        for wanted in (self.requested_port, self.requested_http_port):
            _check_free(self.host, wanted)
        try:
            self.port = server.add_insecure_port(f"{self.host}:{self.requested_port}")
        except RuntimeError:  # grpcio raises (or returns 0) when it cannot bind
            self.port = 0
        if not self.port:
            raise PortInUseError(self.host, self.requested_port)
        try:
            if self.requested_http_port is not None:
                try:
                    self.http_port = self.decthings.start(self.host, self.requested_http_port)
                except OSError as exc:
                    raise PortInUseError(self.host, self.requested_http_port) from exc
            self.files_url = self.clarifai.start(self.host)
        except BaseException:
            server.stop(None)
            self.decthings.close()
            raise
        server.start()
        self._server = server
        log.info("modelwire emulator listening on %s", self.address)
        return self

    def stop(self, grace: float | None = 0.5) -> None:
        """Stop every server and close the store; leaving the `with` block calls it.

        Args:
            grace: Seconds in-flight gRPC calls get to finish (None: cancel them at once).
        """
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None
        self.decthings.close()
        self.clavata.close()
        self.clarifai.close()
        self.store.close()

    def _authenticators(self) -> dict[str, Authenticator]:
        # Clarifai reports auth failures in the response status, so its servicer checks keys itself.
        return {"/clavata.": self.clavata.authenticate, CLARIFAI_PREFIX: self.clarifai.authenticate}

    def wait(self) -> None:
        """Block until the gRPC server terminates (what `modelwire serve` does after `start()`)."""
        if self._server is not None:
            self._server.wait_for_termination()

    def client_env(self) -> dict[str, str]:
        """Environment that points the SDK's clients at this emulator."""
        env = {
            "CLAVATA_EMULATOR_HOST": self.address,
            "CLAVATA_API_KEY": self.api_key,
            "CLARIFAI_PAT": self.api_key,
            "CLARIFAI_USER_ID": self.user_id,
            "CLARIFAI_API_BASE": f"http://{self.address}",
        }
        if self.decthings.running:
            env["DECTHINGS_API_KEY"] = self.api_key
            env["DECTHINGS_HTTP_URL"] = self.decthings_url
            env["DECTHINGS_WS_URL"] = self.decthings_ws_url
        return env

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Emulator(address={self.address!r}, api_key='***')"
