"""Server-stream handles that always cancel the call they own.

Breaking out of `for` / `async for` over a raw gRPC stream leaves the RPC running on the server.
These handles are iterators and (async) context managers that cancel the call on `close()` /
`aclose()` / `cancel()`, on leaving a `with` block, and when garbage-collected (which is what
happens right after `for r in client.evaluate(...): break`).

A stream is retried only before its first message (after that a retry would repeat results),
and only as the core retry policy allows. `message_timeout` bounds the wait for each message.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, TypeVar

import grpc

from modelwire._core.config import check_timeout
from modelwire._core.errors import ApiError, MessageTimeoutError
from modelwire._core.retry import Attempts

T = TypeVar("T")
_END = object()


def _message_timeout_error(method: str, seconds: float) -> MessageTimeoutError:
    return MessageTimeoutError(
        f"no message within message_timeout={seconds}s; the stream was cancelled",
        code=grpc.StatusCode.DEADLINE_EXCEEDED,
        method=method,
        hint="raise message_timeout= or check the server",
    )


class _Watchdog:
    """Cancels a sync call when a message takes longer than `seconds` (one thread per stream)."""

    def __init__(self, seconds: float, cancel: Callable[[], Any]) -> None:
        self.seconds = seconds
        self._cancel = cancel
        self._cond = threading.Condition()
        self._due: float | None = None
        self._stopped = False
        self.fired = False
        threading.Thread(target=self._run, name="modelwire-stream-watchdog", daemon=True).start()

    def arm(self) -> None:
        with self._cond:
            self._due = time.monotonic() + self.seconds
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._due = None

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if self._due is None:
                    self._cond.wait()
                    continue
                left = self._due - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self.fired = True
                self._stopped = True
        if self.fired:
            self._cancel()


class _StreamBase(Generic[T]):
    def __init__(
        self,
        *,
        shape: Callable[[Any], T],
        map_error: Callable[[grpc.RpcError], ApiError],
        attempts: Attempts,
        message_timeout: float | None,
        method: str,
    ) -> None:
        check_timeout(message_timeout, what="message_timeout")
        self._shape = shape
        self._map_error = map_error
        self._attempts = attempts
        self._message_timeout = message_timeout
        self._method = method
        self._call: Any = None
        self._done = False
        self.received = 0

    def _retry_delay(self, error: ApiError) -> float:
        """Delay before restarting; raises `error` once a message arrived or retrying is not allowed."""
        if self.received:
            error.attempts = self._attempts.count
            raise error
        return self._attempts.after_failure(error)

    @property
    def done(self) -> bool:
        return self._done

    def cancel(self) -> None:
        """Cancel the call (idempotent). Iterating afterwards ends the stream."""
        if self._call is not None and not self._done:
            self._call.cancel()
        self._done = True

    def __del__(self) -> None:
        # Never raise from a finalizer (e.g. when the event loop is already closed).
        with contextlib.suppress(Exception):
            self.cancel()

    def __repr__(self) -> str:
        state = "done" if self._done else "open"
        return f"<{type(self).__name__} {self._method} {state}, {self.received} received>"


class SyncStream(_StreamBase[T]):
    """A server stream over a sync channel. Iterate it; `with` it or `close()` it when leaving early.

    It can also be consumed with `async for` (each message is awaited from a worker thread), so
    code written against the async-only published SDKs runs unchanged on sync clients.
    """

    def __init__(self, *, start: Callable[[float | None], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._start = start
        self._watchdog: _Watchdog | None = None
        self._open()

    def _open(self) -> None:
        self._call = self._start(self._attempts.timeout())
        if self._message_timeout is not None:
            if self._watchdog is not None:
                self._watchdog.stop()
            self._watchdog = _Watchdog(self._message_timeout, self._call.cancel)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        # Fast path: no watchdog and no error, one `next` and one shape per message.
        if self._watchdog is None and not self._done:
            try:
                response = next(self._call)
            except StopIteration:
                self._finish()
                raise
            except grpc.RpcError as exc:
                return self._recover(exc)
            self.received += 1
            return self._shape(response)
        return self._next_slow()

    def _recover(self, exc: grpc.RpcError) -> T:
        """After a failed read: raise the mapped error, or wait, restart and read again."""
        dog = self._watchdog
        if dog is not None and dog.fired:
            self._finish()
            raise _message_timeout_error(self._method, dog.seconds) from exc
        try:
            delay = self._retry_delay(self._map_error(exc))
        except ApiError:
            self._finish()
            raise
        time.sleep(delay)
        self._open()
        return self.__next__()

    def _next_slow(self) -> T:
        if self._done:
            raise StopIteration
        dog = self._watchdog
        assert dog is not None
        try:
            dog.arm()
            response = next(self._call)
        except StopIteration:
            self._finish()
            raise
        except grpc.RpcError as exc:
            return self._recover(exc)
        finally:
            dog.disarm()
        self.received += 1
        return self._shape(response)

    def _finish(self) -> None:
        self._done = True
        if self._watchdog is not None:
            self._watchdog.stop()

    def cancel(self) -> None:
        # Also ends the watchdog thread: a stream left with `break` is cancelled from __del__.
        super().cancel()
        self._finish()

    def close(self) -> None:
        self.cancel()

    def __enter__(self) -> SyncStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __aiter__(self) -> AsyncIterator[T]:
        return _ThreadedAsyncIterator(self)


class _ThreadedAsyncIterator(Generic[T]):
    """`async for` over a SyncStream: each blocking next() runs in a worker thread."""

    def __init__(self, stream: SyncStream[T]) -> None:
        self._stream = stream

    def __aiter__(self) -> _ThreadedAsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        item = await asyncio.to_thread(next, self._stream, _END)
        if item is _END:
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    async def aclose(self) -> None:
        self._stream.close()


class AsyncStream(_StreamBase[T]):
    """A server stream over a grpc.aio channel. `async for` it; `async with` it or `aclose()` it."""

    def __init__(self, *, start: Callable[[float | None], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._start = start  # the call starts on first iteration, inside the running loop
        self._messages: Any = None  # the call's own async iterator (cheaper per message than read())

    def __aiter__(self) -> AsyncIterator[T]:
        if self._messages is not None or self._done or self._message_timeout is not None:
            return self  # already being read with __anext__, or timed per message
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        """`async for` without a coroutine of ours per message: loop over gRPC's own iterator.

        Leaving the loop early closes this generator (at once, or when asyncio finalizes it),
        and `finally` cancels the call.
        """
        shape = self._shape
        try:
            while not self._done:
                if self._messages is None:
                    self._call = self._start(self._attempts.timeout())
                    self._messages = self._call.__aiter__()
                try:
                    async for response in self._messages:
                        self.received += 1
                        yield shape(response)
                    self._done = True
                except grpc.RpcError as exc:
                    await asyncio.sleep(self._retry_delay(self._map_error(exc)))
                    self._call = self._messages = None
        finally:
            self.cancel()

    async def __anext__(self) -> T:
        messages = self._messages
        if messages is None or self._done or self._message_timeout is not None:
            return await self._anext_slow()
        try:  # fast path: one awaited message and one shape
            response = await messages.__anext__()
        except StopAsyncIteration:
            self._done = True
            raise
        except grpc.RpcError as exc:
            return await self._recover(exc)
        except asyncio.CancelledError:  # the consuming task was cancelled: end the RPC too
            self.cancel()
            raise
        self.received += 1
        return self._shape(response)

    async def _anext_slow(self) -> T:
        if self._done:
            raise StopAsyncIteration
        if self._messages is None:
            self._call = self._start(self._attempts.timeout())
            self._messages = self._call.__aiter__()
        if self._message_timeout is None:
            return await self.__anext__()
        try:
            response = await asyncio.wait_for(self._messages.__anext__(), self._message_timeout)
        except asyncio.TimeoutError:
            self.cancel()
            raise _message_timeout_error(self._method, self._message_timeout) from None
        except StopAsyncIteration:
            self._done = True
            raise
        except grpc.RpcError as exc:
            return await self._recover(exc)
        except asyncio.CancelledError:
            self.cancel()
            raise
        self.received += 1
        return self._shape(response)

    async def _recover(self, exc: grpc.RpcError) -> T:
        """After a failed read: raise the mapped error, or wait, restart and read again."""
        try:
            delay = self._retry_delay(self._map_error(exc))
        except ApiError:
            self._done = True
            raise
        await asyncio.sleep(delay)
        self._call = self._messages = None
        return await self._anext_slow()

    async def aclose(self) -> None:
        self.cancel()

    close = aclose

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cancel()
