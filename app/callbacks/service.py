"""Applying a delivery: one statement that locks the task, applies the first result and logs it.

Every path that brings a result uses `ingest`: live callbacks, replays, reconciliation and
synchronous submit answers. The first terminal result wins; whatever comes after is kept
in the log and changes nothing.
"""

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.acedata.schemas import Result, read_result
from app.callbacks.batch import Applied, Row, apply_batch
from app.ids import new_id


@dataclass(frozen=True, slots=True)
class Inbound:
    """One request as it reached fishhook (or a stored one replayed, or a reconciled record)."""

    source: str
    method: str
    query: str
    headers: dict[str, str]
    body: bytes | None  # None: it was over the size limit and was not kept
    body_size: int
    remote_addr: str | None = None
    replay_of: str | None = None  # the stored delivery this one replays

    @classmethod
    def of_answer(cls, source: str, body: dict[str, Any]) -> "Inbound":
        """An answer fishhook fetched itself from AceData (to a submit, to a lookup), taken
        in as if it had been posted as a callback."""
        raw = json.dumps(body).encode()
        return cls(source=source, method="POST", query="", headers={}, body=raw, body_size=len(raw))


@dataclass(frozen=True, slots=True)
class Receipt:
    delivery_id: str
    outcome: str
    task_ref: str | None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class _Parsed:
    payload: dict[str, Any] | None
    task_id: str | None
    problem: str | None


# The longest task_id kept: AceData's are 36-character UUIDs, and a value too large for an
# index row (about 2.7 kB) would fail the whole batch statement it shares with other callbacks.
MAX_TASK_ID = 256


def _finite(text: str) -> float:
    """JSON numbers as floats; one beyond a float (1e400) or NaN/Infinity, which JSON text does
    not allow but Python reads, cannot be stored as jsonb either."""
    number = float(text)
    if math.isinf(number) or math.isnan(number):
        raise ValueError(text)
    return number


def _no_constant(text: str) -> float:
    raise ValueError(text)


def parse(body: bytes | None) -> _Parsed:
    if body is None:
        return _Parsed(None, None, "body is larger than the size limit")
    try:
        # Bytes, not text: json decodes UTF-8 itself and refuses invalid sequences.
        payload = json.loads(body, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return _Parsed(None, None, "body is not valid JSON (or not valid UTF-8)")
    if not isinstance(payload, dict):
        return _Parsed(None, None, "body is not a JSON object")
    unstorable = _unstorable(payload) if _may_be_unstorable(body) else None
    if unstorable:
        return _Parsed(None, None, unstorable)
    task_id = payload.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        return _Parsed(payload, None, "body has no string task_id")
    if len(task_id) > MAX_TASK_ID:
        return _Parsed(payload, None, f"task_id is longer than {MAX_TASK_ID} characters")
    return _Parsed(payload, task_id, None)


MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff\x00]")


def _may_be_unstorable(body: bytes) -> bool:
    """Cheap byte counts that clear almost every real body without walking it: too few
    brackets to be nested that deep, and no \\u escape that could be NUL or a surrogate."""
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH:
        return True
    return b"\\u0000" in body or b"\\ud" in body or b"\\uD" in body


def _unstorable(value: Any, depth: int = 1) -> str | None:
    """Why PostgreSQL's jsonb would refuse `value` (so it must not reach the statement), or None.

    jsonb holds neither NUL characters nor lone surrogates (both legal in JSON text), and a
    deeply nested body is no callback AceData sends but a way to exhaust the server's stack.
    """
    if depth > MAX_DEPTH:
        return f"body is nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        return "body has a NUL or lone surrogate character" if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _unstorable(key, depth) or _unstorable(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _unstorable(item, depth + 1)
            if problem:
                return problem
    return None


def to_row(
    inbound: Inbound,
    *,
    task_ref: str | None,
    authenticated: bool,
    refusal: str | None = None,
    unauthenticated: str | None = None,
) -> Row:
    """The delivery row for `inbound`: its outcome is fixed here when the request is refused
    (no credential, unreadable body), and left to the statement otherwise.

    `unauthenticated`: why the credential check failed, for the log (see credentials.refusal).
    """
    parsed = parse(inbound.body)
    result: Result | None = None
    problem = refusal or parsed.problem
    if authenticated and problem is None and parsed.payload is not None:
        result = read_result(parsed.payload)
        if result is None:
            problem = "body carries neither a result nor an error"
    decided = "unauthenticated" if not authenticated else "invalid" if result is None else None
    status = text = output = error = trace_id = None
    if result is not None:
        assert parsed.payload is not None and inbound.body is not None
        status, text = result.status, _json_text(inbound.body, parsed.payload)
        output, error = _json_or_none(result.output), _json_or_none(result.error)
        trace = parsed.payload.get("trace_id")
        trace_id = trace if isinstance(trace, str) else None
    return Row(
        id=new_id("dlv"),
        source=inbound.source,
        remote_addr=inbound.remote_addr,
        method=inbound.method,
        query=inbound.query,
        headers=json.dumps(inbound.headers),
        body=inbound.body,
        body_size=inbound.body_size,
        task_id=parsed.task_id,
        task_ref=task_ref if authenticated else None,
        decided_outcome=decided,
        detail=problem if decided == "invalid" else unauthenticated if decided else None,
        status=status,
        result=text,
        output=output,
        error=error,
        trace_id=trace_id,
        replay_of=inbound.replay_of,
    )


def _json_or_none(value: Any) -> str | None:
    return json.dumps(value) if value is not None else None


def _json_text(body: bytes, payload: dict[str, Any]) -> str:
    """The body as JSON text for PostgreSQL: as received when it is UTF-8 (no re-encoding)."""
    try:
        return body.decode()
    except UnicodeDecodeError:  # UTF-16 or UTF-32 JSON, which json.loads also reads
        return json.dumps(payload)


def receipt(row: Row, applied: Applied) -> Receipt:
    return Receipt(row.id, applied.outcome, applied.task_ref, applied.detail)


async def ingest(
    session: AsyncSession,
    inbound: Inbound,
    *,
    task_ref: str | None,
    authenticated: bool,
    refusal: str | None = None,
) -> Receipt:
    """Log `inbound` and apply it to task `task_ref` if it may; commits.

    `refusal`: why the caller already knows the request is invalid (its content type, say);
    it is then logged as `invalid` whatever its body holds. Live callbacks take the same
    row through the group-commit intake instead (see intake.py).
    """
    row = to_row(inbound, task_ref=task_ref, authenticated=authenticated, refusal=refusal)
    applied = (await apply_batch(session, [row]))[row.id]
    await session.commit()
    return receipt(row, applied)
