"""Keeping secrets out of the deliveries log: headers and query parameters that carry them,
and the bounds on what a stored header may hold."""

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
SECRET_PARAMS = frozenset({"token", "key", "api_key", "access_token", "secret", "signature"})
# A stored header value is cut to this many characters (the whole head is already bounded by
# FISHHOOK_MAX_HEADER_BYTES; this keeps one value from filling a log page).
MAX_HEADER_VALUE = 2048
# A secret parameter inside any header value: proxies copy the whole URL into X-Original-URI,
# X-Forwarded-Uri, Referer and the like.
_SECRET_IN_VALUE = re.compile(
    r"(?i)\b((?:" + "|".join(sorted(SECRET_PARAMS)) + r")(?:=|%3D))[^&\s#;,\"']+"
)
# A query value shorter than this is no credential fishhook issued (those are 32 characters);
# replacing it everywhere would only mangle the log.
_MIN_SECRET = 8


def redact_headers(
    headers: list[tuple[bytes, bytes]], secrets: Iterable[str] = ()
) -> dict[str, str]:
    """Raw ASGI headers as a dict; repeated names are joined as HTTP allows. `secrets` (the
    credential the query carried) are redacted wherever they appear in a value."""
    hidden = [s for s in secrets if len(s) >= _MIN_SECRET]
    kept: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = REDACTED if name in SECRET_HEADERS else _redact_value(raw_value, hidden)
        name = _storable(name[:MAX_HEADER_VALUE])
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


def _redact_value(raw: bytes, secrets: list[str]) -> str:
    value = raw.decode("latin-1")
    if "=" in value or "%3" in value:
        value = _SECRET_IN_VALUE.sub(rf"\1{REDACTED}", value)
    for secret in secrets:
        if secret in value:
            value = value.replace(secret, REDACTED)
    if len(value) > MAX_HEADER_VALUE:
        value = f"{value[:MAX_HEADER_VALUE]}...[{len(value) - MAX_HEADER_VALUE} more characters]"
    return _storable(value)


def secret_values(pairs: list[tuple[str, str]]) -> list[str]:
    """The values of the query's secret parameters (the callback credential among them)."""
    return [value for key, value in pairs if key.lower() in SECRET_PARAMS]


def query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def redact_query(query: str | list[tuple[str, str]]) -> str:
    pairs = query_pairs(query) if isinstance(query, str) else query
    kept = [(k, REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
    return _storable(urlencode(kept))


def _storable(text: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL; a request may carry one anyway.
    return text.replace("\x00", "\ufffd")
