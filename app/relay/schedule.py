"""When to try a relay again: exponential backoff with jitter, Retry-After honoured, capped."""

import email.utils
import random
import time

_RNG = random.Random()


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    asked: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds before the attempt after `attempt` (1-based): base, 2*base, 4*base ... up to
    `cap`, each jittered to between half and all of it so that receivers coming back from
    an outage are not hit by every message at once; never sooner than the receiver asked."""
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 60))
    generator: random.Random = rng or _RNG
    chosen = ceiling / 2 + generator.uniform(0, ceiling / 2)
    if asked is not None:
        # Not capped: a message whose receiver asks to wait past its max age is dead anyway.
        chosen = max(chosen, asked)
    return chosen
