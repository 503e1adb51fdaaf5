"""Keys stay out of tracebacks (chained errors and captured locals) and internal reprs."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable

import grpc

from modelwire._core.errors import ApiError
from modelwire._core.transport import CallMetadata, CallSettings
from modelwire.clarifai import User
from modelwire.clavata import NO_RETRY, AsyncClavataClient, ClavataClient
from modelwire.emulator import Emulator


def _failure(call: Callable[[], object]) -> ApiError:
    """Run `call` and return its error; the traceback starts here, in a frame holding no key."""
    try:
        call()
    except ApiError as err:
        return err
    raise AssertionError("the call should have failed")


def _rendered(err: BaseException) -> str:
    frames = traceback.TracebackException.from_exception(err, capture_locals=True)
    return "".join(frames.format()) + str(err) + repr(err)


def test_a_sync_traceback_with_locals_shows_no_key(emulator: Emulator, api_key: str) -> None:
    emulator.faults.add("GetJob", grpc.StatusCode.INTERNAL, message=f"boom while using {api_key}")
    with ClavataClient(host="127.0.0.1", port=emulator.port, auth_token=api_key, retry=NO_RETRY) as client:
        text = _rendered(_failure(lambda: client.get_job("x")))
    # Before: the chained _InactiveRpcError echoed the server's message, and the transport frame's
    # metadata tuple showed the bearer token.
    assert "CallMetadata((('authorization', '***')" in text
    assert api_key not in text and "***" in text


def test_an_async_traceback_with_locals_shows_no_key(emulator: Emulator, api_key: str) -> None:
    emulator.faults.add("GetJob", grpc.StatusCode.INTERNAL, message=f"boom while using {api_key}")

    async def fail(client: AsyncClavataClient) -> ApiError:
        try:  # caught in a frame of its own: the traceback holds no frame with the key
            await client.get_job("x")
        except ApiError as err:
            return err
        raise AssertionError("the call should have failed")

    async def main() -> ApiError:
        async with AsyncClavataClient(
            host="127.0.0.1", port=emulator.port, auth_token=api_key, retry=NO_RETRY
        ) as client:
            return await fail(client)

    text = _rendered(asyncio.run(main()))
    assert api_key not in text and "***" in text


def test_a_clarifai_traceback_with_locals_shows_no_key(emulator: Emulator, api_key: str) -> None:
    emulator.faults.add("ListApps", grpc.StatusCode.INTERNAL, message=f"echo {api_key}")
    with User(user_id=emulator.user_id, base_url=f"http://127.0.0.1:{emulator.port}", pat=api_key) as user:
        text = _rendered(_failure(lambda: list(user.list_apps())))
    assert api_key not in text and "CallMetadata" in text


def test_call_settings_and_metadata_reprs_mask_credentials() -> None:
    settings = CallSettings(
        metadata=(("authorization", "Bearer sekrit-123"), ("x-clarifai-session-token", "tok-456"))
    )
    assert isinstance(settings.metadata, CallMetadata) and settings.metadata[0][1] == "Bearer sekrit-123"
    shown = repr(settings) + str(settings.metadata)
    assert "sekrit-123" not in shown and "tok-456" not in shown and "authorization" in shown
