"""When to try again: exponential backoff with jitter, capped, Retry-After honoured."""

import email.utils
import math
import random
import time

_RNG = random.Random()


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
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
    spread: float = 0.5,
    rng: random.Random | None = None,
) -> float:
    """Seconds before the attempt after `attempt` (1-based): base, 2*base, 4*base ... up to
    `cap`, the last `spread` of each left to chance (0.5: between half and all of it; 1.0:
    full jitter), so that those coming back from an outage are not hit all at once; never
    sooner than `asked` (a Retry-After)."""
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 60))
    generator: random.Random = rng or _RNG
    chosen = ceiling * (1 - spread) + generator.uniform(0, ceiling * spread)
    if asked is not None:
        # Not capped: whoever asks to wait past the caller's budget gets given up on.
        chosen = max(chosen, asked)
    return chosen
