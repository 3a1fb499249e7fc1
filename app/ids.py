"""Identifiers that sort by creation time (ULID layout), so keyset pages are newest first."""

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def new_id(prefix: str) -> str:
    """`prefix_` + 26 chars: 48 bits of milliseconds, then 80 random bits."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    return _encode(prefix, value)


def first_id_at(prefix: str, seconds: float) -> str:
    """The smallest id created at `seconds` (epoch): `id >= first_id_at(...)` is a range
    on the primary key that stands in for `created_at >= ...`."""
    return _encode(prefix, int(seconds * 1000) << 80)


def _encode(prefix: str, value: int) -> str:
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(reversed(chars))}"
