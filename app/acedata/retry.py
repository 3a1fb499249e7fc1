"""When and how long to wait before asking AceData again: full-jitter backoff within a budget."""

import time
from dataclasses import dataclass, field

from app import backoff
from app.acedata.errors import UpstreamError

# Codes that mean "try again later" even when the HTTP status alone would not say so.
RETRYABLE_CODES = frozenset(
    {
        "too_many_requests",
        "api_error",
        "busy",
        "timeout",
        "upstream_unavailable",
        "upstream_timeout",
    }
)
MAX_DELAY = 10.0


def is_retryable(error: UpstreamError) -> bool:
    """429, 5xx, unreachable and timed out; never another 4xx (the same request fails again)."""
    status = error.http_status
    if status is not None:
        return status == 429 or status >= 500
    return error.info.code in RETRYABLE_CODES


@dataclass
class Backoff:
    """One request's retries: exponential backoff with full jitter, honouring Retry-After,
    and never sleeping past the budget (the caller then gives up with the last error)."""

    budget: float
    base: float
    attempt: int = 0
    started: float = field(default_factory=time.monotonic)

    def next_delay(self, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None when the budget would be exceeded."""
        self.attempt += 1
        delay = backoff.delay(
            self.attempt, base=self.base, cap=MAX_DELAY, asked=retry_after, spread=1.0
        )
        if time.monotonic() - self.started + delay > self.budget:
            return None
        return delay
