"""Live pages: change notifications (PostgreSQL NOTIFY, through the worker's one LISTEN
connection in app.tasks.waiting) fanned out to every browser's Server-Sent Events stream.

A browser is told *what* changed ("deliveries", "tasks", "relay"), not the rows, and
re-reads its page; notifications for a slow browser fold into one, so none piles up.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from app.tasks.waiting import Waiters

KINDS = frozenset({"deliveries", "tasks", "relay", "all"})


@dataclass(eq=False)
class _Browser:
    pending: set[str] = field(default_factory=set)
    woke: asyncio.Event = field(default_factory=asyncio.Event)


class Broadcaster:
    def __init__(self, waiters: Waiters) -> None:
        self._browsers: set[_Browser] = set()
        waiters.on_change(self.publish)

    def __len__(self) -> int:
        return len(self._browsers)

    def publish(self, what: str) -> None:
        kind = what if what in KINDS else "all"
        for browser in self._browsers:
            browser.pending.add(kind)
            browser.woke.set()

    async def changes(self) -> AsyncIterator[str]:
        """What changed, for one browser, as long as it stays connected: "deliveries",
        "tasks relay", ... (sse_starlette ends it when the browser or the server goes)."""
        browser = _Browser()
        self._browsers.add(browser)
        try:
            while True:
                await browser.woke.wait()
                browser.woke.clear()
                kinds, browser.pending = browser.pending, set()
                yield " ".join(sorted(kinds))
        finally:
            self._browsers.discard(browser)
