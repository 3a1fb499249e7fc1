"""Keeping secrets out of the deliveries log: headers and query parameters that carry them."""

from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
SECRET_PARAMS = frozenset({"token", "key", "api_key", "access_token", "secret", "signature"})


def redact_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Raw ASGI headers as a dict; repeated names are joined as HTTP allows."""
    kept: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = REDACTED if name in SECRET_HEADERS else _storable(raw_value.decode("latin-1"))
        name = _storable(name)
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


def query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def redact_query(query: str | list[tuple[str, str]]) -> str:
    pairs = query_pairs(query) if isinstance(query, str) else query
    kept = [(k, REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
    return _storable(urlencode(kept))


def _storable(text: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL; a request may carry one anyway.
    return text.replace("\x00", "\ufffd")
