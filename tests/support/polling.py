"""`eventually`: wait for something that happens in the background, bounded in time."""

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = 2.0,
    interval: float = 0.01,
    what: str = "the condition",
) -> T:
    """Call `check` (plain or async) until it returns something other than None or False,
    and return that; fail after `timeout` seconds instead of racing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value is not None and value is not False:
            return value  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not come within {timeout} s")
        await asyncio.sleep(interval)
