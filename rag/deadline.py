"""Running async work from synchronous code with a hard deadline: the whole of it ends in time.

    value = call(lambda: some_coroutine(), seconds=5)          # its result, or TimeoutError after 5 s
    for item in iterate(lambda: some_async_generator(), 5):     # items as they come; TimeoutError at 5 s
        ...

A socket read timeout cannot bound a call: a server that sends one byte a second never trips it, and retries
multiply it. Here every piece of work runs as a task on one background asyncio loop (a daemon thread shared by
the process), inside `asyncio.timeout(seconds)`; the caller waits on a queue (or a future) that gives up at the
same deadline plus a small grace. Leaving early (the deadline, an exception, or a consumer that stops
iterating) cancels the task, which closes whatever connection it holds.

Not handled: work that blocks the loop's thread without awaiting cannot be cancelled (run none here).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
GRACE = 0.25  # seconds the caller waits past the deadline for the task's own timeout to report first

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def loop() -> asyncio.AbstractEventLoop:
    """The background loop, started on first use (clients cached per loop, e.g. litellm's, stay valid)."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="rag-deadline", daemon=True).start()
        return _loop


def call(work: Callable[[], Awaitable[T]], seconds: float) -> T:
    """Await `work()` on the background loop; its result, its exception, or TimeoutError after `seconds`."""

    async def bounded() -> T:
        async with asyncio.timeout(seconds):
            return await work()

    future = asyncio.run_coroutine_threadsafe(bounded(), loop())
    try:
        return future.result(timeout=seconds + GRACE)
    except TimeoutError:
        raise TimeoutError(f"no result within {seconds:g}s") from None
    finally:
        future.cancel()


def iterate(work: Callable[[], AsyncIterator[T]], seconds: float) -> Iterator[T]:
    """Yield the items of the async iterator `work()` as they arrive; raise its exception, or TimeoutError
    when the whole iteration has not ended within `seconds`."""
    deadline = time.monotonic() + seconds
    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    async def produce() -> None:
        try:
            async with asyncio.timeout(seconds):
                async for item in work():
                    events.put(("item", item))
            events.put(("done", None))
        except asyncio.CancelledError:
            events.put(("error", TimeoutError(f"cancelled after {seconds:g}s")))
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to the caller as is
            events.put(("error", exc))

    future = asyncio.run_coroutine_threadsafe(produce(), loop())
    try:
        while True:
            try:
                kind, value = events.get(timeout=max(0.0, deadline - time.monotonic()) + GRACE)
            except queue.Empty:
                raise TimeoutError(f"not finished within {seconds:g}s") from None
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        future.cancel()
