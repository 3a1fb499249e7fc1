"""The retry schedule: exponential, jittered, capped, never sooner than Retry-After."""

import random

from app.backoff import delay, retry_after


def test_delays_grow_exponentially_with_jitter_up_to_the_cap():
    rng = random.Random(7)
    for attempt in range(1, 20):
        ceiling = min(21_600, 5 * 2 ** (attempt - 1))
        chosen = delay(attempt, base=5, cap=21_600, rng=rng)
        assert ceiling / 2 <= chosen <= ceiling


def test_retry_after_is_a_floor():
    assert delay(1, base=5, cap=60, asked=120) == 120


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after("30") == 30
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert retry_after("soon") is None
    assert retry_after(None) is None
