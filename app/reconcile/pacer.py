"""At most one /fish/tasks call per interval across the process (AceData asks for ~1 req/s)."""

import asyncio
import time


class Pacer:
    def __init__(self, interval: float = 1.0) -> None:
        self._interval = interval
        self._lock = asyncio.Lock()
        self._last = -float("inf")

    async def wait(self) -> None:
        """Return once the previous call is at least `interval` seconds ago."""
        async with self._lock:
            delay = self._last + self._interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._last = time.monotonic()
