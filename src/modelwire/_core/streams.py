"""Server-stream handles that always cancel the call they own.

Breaking out of `for` / `async for` over a raw gRPC stream leaves the RPC running on the server.
These handles are iterators and (async) context managers that cancel the call on `close()` /
`aclose()` / `cancel()`, on leaving a `with` block, and when garbage-collected (which is what
happens right after `for r in client.evaluate(...): break`).

A stream is retried only before its first message (after that a retry would repeat results),
and only as the core retry policy allows. `message_timeout` bounds the wait for each message.
When observed (see `observe`), a stream logs at each open and once at its end, never per message.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, TypeVar, Union

import grpc

from modelwire._core import observe
from modelwire._core.config import check_timeout
from modelwire._core.errors import ApiError, MessageTimeoutError
from modelwire._core.retry import Attempts

T = TypeVar("T")


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
        start: Callable[[float | None], Any],
        observer: observe.Call | None = None,
    ) -> None:
        check_timeout(message_timeout, what="message_timeout")
        self._start = start
        self._obs = observer
        self._shape = shape
        self._map_error = map_error
        self._attempts = attempts
        self._message_timeout = message_timeout
        self._method = method
        self._call: Any = None
        self._done = False
        self.received = 0

    def _begin(self) -> Any:
        """Start one attempt of the call."""
        timeout = self._attempts.timeout()
        obs = self._obs
        if obs is None:
            return self._start(timeout)
        obs.stream_opened(self._attempts.count)
        with obs.activate():
            return self._start(timeout)

    def _end(self, error: BaseException | None = None, status: str | None = None) -> None:
        """The stream's outcome, observed once (a no-op when nothing observes it)."""
        obs = self._obs
        if obs is not None:
            self._obs = None
            obs.finish(error, status=status, attempts=self._attempts.count, messages=self.received)

    def _retry_delay(self, error: ApiError) -> float:
        """Delay before restarting; raises `error` once a message arrived or retrying is not allowed."""
        try:
            if self.received:
                error.attempts = self._attempts.count
                raise error
            return self._attempts.after_failure(error)
        except ApiError:
            self._end(error)
            raise

    @property
    def done(self) -> bool:
        return self._done

    def cancel(self) -> None:
        """Cancel the call (idempotent). Iterating afterwards ends the stream."""
        if self._call is not None and not self._done:
            self._call.cancel()
        self._done = True
        if self._obs is not None:
            self._end(status="CANCELLED")

    def __del__(self) -> None:
        # Never raise from a finalizer (e.g. when the event loop is already closed).
        with contextlib.suppress(Exception):
            self.cancel()

    def __repr__(self) -> str:
        state = "done" if self._done else "open"
        return f"<{type(self).__name__} {self._method} {state}, {self.received} received>"


class SyncStream(_StreamBase[T]):
    """A server stream over a sync channel. Iterate it; `with` it or `close()` it when leaving early.

    It can also be consumed with `async for` (a reader thread hands messages to the loop, see
    `ThreadedAsyncStream`), so code written against the async-only published SDKs runs
    unchanged on sync clients.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._watchdog: _Watchdog | None = None
        self._open()

    def _open(self) -> None:
        self._call = self._begin()
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
                self._end()
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
            timed_out = _message_timeout_error(self._method, dog.seconds)
            self._end(timed_out)
            self._finish()
            raise timed_out from exc
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
            self._end()
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
        return ThreadedAsyncStream(self)


class _Handoff(Generic[T]):
    """Messages passed from a reader thread to an event loop: a bounded buffer, and a wake-up of
    the loop only when it waits for one (so a consumer that keeps up pays one lock per message
    and no thread switch; one that lags takes what piled up without waking at all)."""

    LIMIT = 256  # messages read ahead of the consumer before the reader waits

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.lock = threading.Condition()
        self.buffer: collections.deque[T] = collections.deque()
        self.waiter: asyncio.Future[None] | None = None
        self.finished = False
        self.error: BaseException | None = None
        self.closed = False

    def read(self, stream: SyncStream[T]) -> None:
        """The reader thread: drain the stream into the buffer until it ends, fails or is closed."""
        try:
            for item in stream:
                with self.lock:
                    while len(self.buffer) >= self.LIMIT and not self.closed:
                        self.lock.wait()
                    if self.closed:
                        return
                    self.buffer.append(item)
                    self._wake()
        except BaseException as exc:  # handed to the consumer, raised there
            with self.lock:
                self.error = exc
        finally:
            with self.lock:
                self.finished = True
                self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
                self.loop.call_soon_threadsafe(_resolve, waiter)

    async def next(self) -> T:
        while True:
            with self.lock:
                if self.closed:  # closed by the consumer: the end, whatever the reader saw
                    raise StopAsyncIteration
                if self.buffer:
                    item = self.buffer.popleft()
                    if len(self.buffer) == self.LIMIT - 1:
                        self.lock.notify()  # the reader may be waiting for room
                    return item
                if self.finished:
                    if self.error is not None:
                        raise self.error
                    raise StopAsyncIteration
                waiter = self.waiter = self.loop.create_future()
            await waiter

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.lock.notify_all()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ThreadedAsyncStream(Generic[T]):
    """An async handle on a SyncStream: one reader thread per stream drains it (gRPC's blocking
    read releases the GIL) and hands messages to the event loop through `_Handoff`, instead of a
    worker-thread hop per message or an aio read per message. Same surface as AsyncStream:
    `async for`, `__anext__`, `aclose()`/`cancel()`, `async with`, `done`, `received`.

    Leaving early (`break`, `aclose()`, a cancelled task, garbage collection) cancels the call;
    the thread holds the stream, never this handle, so dropping the handle is enough.
    """

    def __init__(self, stream: SyncStream[T]) -> None:
        self._stream = stream
        self._handoff: _Handoff[T] | None = None
        self._closed = False

    @property
    def done(self) -> bool:
        return self._closed or self._stream.done

    @property
    def received(self) -> int:
        return self._stream.received

    def __aiter__(self) -> ThreadedAsyncStream[T]:
        return self

    async def __anext__(self) -> T:
        handoff = self._handoff
        if handoff is None:
            if self._closed:
                raise StopAsyncIteration
            handoff = self._handoff = _Handoff(asyncio.get_running_loop())
            reader = threading.Thread(
                target=handoff.read, args=(self._stream,), name=f"modelwire-stream-{self._stream._method}"
            )
            reader.daemon = True
            reader.start()
        try:
            return await handoff.next()
        except asyncio.CancelledError:
            self.cancel()
            raise

    def cancel(self) -> None:
        """Cancel the call (idempotent). Iterating afterwards ends the stream."""
        self._closed = True
        if self._handoff is not None:
            self._handoff.close()
        self._stream.close()

    async def aclose(self) -> None:
        self.cancel()

    close = aclose

    async def __aenter__(self) -> ThreadedAsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cancel()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.cancel()

    def __repr__(self) -> str:
        state = "done" if self.done else "open"
        return f"<{type(self).__name__} {self._stream._method} {state}, {self.received} received>"


class AsyncStream(_StreamBase[T]):
    """A server stream over a grpc.aio channel. `async for` it; `async with` it or `aclose()` it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # the call starts on first iteration, inside the running loop
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
                    self._call = self._begin()
                    self._messages = self._call.__aiter__()
                try:
                    async for response in self._messages:
                        self.received += 1
                        yield shape(response)
                    self._done = True
                    self._end()
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
            self._end()
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
            self._call = self._begin()
            self._messages = self._call.__aiter__()
        if self._message_timeout is None:
            return await self.__anext__()
        try:
            response = await asyncio.wait_for(self._messages.__anext__(), self._message_timeout)
        except asyncio.TimeoutError:
            timed_out = _message_timeout_error(self._method, self._message_timeout)
            self._end(timed_out)
            self.cancel()
            raise timed_out from None
        except StopAsyncIteration:
            self._done = True
            self._end()
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


# What an async client's stream method returns: read on the loop, or by a reader thread.
AnyAsyncStream = Union[AsyncStream[T], ThreadedAsyncStream[T]]  # noqa: UP007 (a generic alias)
