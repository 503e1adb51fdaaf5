"""Sync and grpc.aio channels with the same options: user agent, message limits, keepalive.

Auth and client headers travel as per-call metadata precomputed once per client (cheaper than an
interceptor on every call); deadlines and retries are applied by the transport. A client's
`interceptors=` (and any installed by `modelwire.otel.instrument()`) wrap the channel here, so
they see every attempt of every call, retries included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from modelwire._core import observe
from modelwire._core.config import Endpoint
from modelwire._core.errors import ConfigurationError
from modelwire._version import __version__

USER_AGENT = f"modelwire-python/{__version__}"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

ChannelOptions = Sequence[tuple[str, Any]]
# grpc client interceptors (grpc.UnaryUnaryClientInterceptor...) and/or grpc.aio ones.
Interceptors = Sequence[Any]

_SYNC_KINDS = (
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
)


def check_interceptors(interceptors: Interceptors | None, *, aio: bool) -> tuple[Any, ...]:
    """A client's `interceptors=`, checked at construction.

    A sync client takes grpc client interceptors. An async client takes grpc.aio ones, and may
    add sync ones too: those wrap the sync channel that reads `stream(threaded=True)` streams."""
    if interceptors is None:
        return ()
    if isinstance(interceptors, (str, bytes)) or not isinstance(interceptors, Sequence):
        interceptors = [interceptors]  # one interceptor given bare
    for item in interceptors:
        if isinstance(item, grpc.aio.ClientInterceptor):
            if not aio:
                raise ConfigurationError(
                    f"{type(item).__name__} is a grpc.aio interceptor: pass it to the async client; "
                    "a sync client takes grpc.UnaryUnaryClientInterceptor and the like"
                )
        elif not isinstance(item, _SYNC_KINDS):
            raise ConfigurationError(
                f"interceptors= takes grpc client interceptors (grpc.UnaryUnaryClientInterceptor, "
                f"grpc.UnaryStreamClientInterceptor...; grpc.aio ones for async clients), got "
                f"{type(item).__name__} (for OpenTelemetry use modelwire.otel.grpc_interceptors())"
            )
    return tuple(interceptors)


def _sync_only(interceptors: Interceptors) -> list[Any]:
    return [i for i in interceptors if not isinstance(i, grpc.aio.ClientInterceptor)]


def _aio_only(interceptors: Interceptors) -> list[Any]:
    return [i for i in interceptors if isinstance(i, grpc.aio.ClientInterceptor)]


def channel_options(extra: ChannelOptions = ()) -> list[tuple[str, Any]]:
    """Defaults, overridden by name by `extra`."""
    options: dict[str, Any] = {
        "grpc.primary_user_agent": USER_AGENT,
        "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
        "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
        # Keepalive no more often than servers accept by default (5 min), to avoid GOAWAY too_many_pings.
        "grpc.keepalive_time_ms": 300_000,
        "grpc.keepalive_timeout_ms": 20_000,
        # Transparent retries of calls that never left the client stay on (gRPC's default).
        "grpc.enable_retries": 1,
    }
    options.update(dict(extra))
    return list(options.items())


# Sync server streams read on the consumer's own thread instead of handing every message over
# from gRPC's channel thread: measured 32 -> 23 us of client CPU per streamed message
# (docs/decisions/0002). Pass ("SingleThreadedUnaryStream", 0) in `channel_options=` to turn it off.
SINGLE_THREADED = "SingleThreadedUnaryStream"  # grpc.experimental.ChannelOptions.SingleThreadedUnaryStream


def sync_channel(
    endpoint: Endpoint,
    *,
    options: ChannelOptions = (),
    credentials: grpc.ChannelCredentials | None = None,
    interceptors: Interceptors = (),
) -> grpc.Channel:
    """A sync channel; the sync ones of `interceptors` (after the installed defaults) wrap it."""
    # gRPC turns the option on by its mere presence, so a falsy value from the caller removes it.
    opts = [(k, v) for k, v in channel_options([(SINGLE_THREADED, 1), *options]) if k != SINGLE_THREADED or v]
    if endpoint.secure:
        channel = grpc.secure_channel(endpoint.target, credentials or grpc.ssl_channel_credentials(), opts)
    else:
        channel = grpc.insecure_channel(endpoint.target, opts)
    chosen = _sync_only([*observe.default_grpc_interceptors(aio=False), *interceptors])
    return grpc.intercept_channel(channel, *chosen) if chosen else channel


def aio_channel(
    endpoint: Endpoint,
    *,
    options: ChannelOptions = (),
    credentials: grpc.ChannelCredentials | None = None,
    interceptors: Interceptors = (),
) -> grpc.aio.Channel:
    """A grpc.aio channel with the grpc.aio ones of `interceptors` (after the installed defaults)."""
    opts = channel_options(options)
    chosen = _aio_only([*observe.default_grpc_interceptors(aio=True), *interceptors]) or None
    if endpoint.secure:
        return grpc.aio.secure_channel(
            endpoint.target, credentials or grpc.ssl_channel_credentials(), opts, interceptors=chosen
        )
    return grpc.aio.insecure_channel(endpoint.target, opts, interceptors=chosen)
