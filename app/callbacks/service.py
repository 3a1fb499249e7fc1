"""Applying a delivery: one statement that locks the task, applies the first result and logs it.

Every path that brings a result uses `ingest`: live callbacks, replays, reconciliation and
synchronous submit answers. The first terminal result wins; whatever comes after is kept
in the log and changes nothing.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import LargeBinary, bindparam, insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from app.acedata.schemas import Result, read_result
from app.callbacks.models import Delivery
from app.ids import new_id

# The task row is locked first, so concurrent copies of one callback queue up behind the
# one that applies, then see the task finished and are logged as duplicates.
_APPLY = text(
    """
WITH task AS (
    SELECT id, task_id, status, result FROM tasks WHERE id = :task_ref FOR UPDATE
), applied AS (
    UPDATE tasks AS t
    SET status = :status, task_id = :task_id, result = :result, output = :output,
        error = :error, trace_id = coalesce(:trace_id, t.trace_id),
        finished_at = now(), updated_at = now()
    FROM task
    WHERE t.id = task.id
      AND task.status IN ('pending', 'submitted', 'expired')
      AND (task.task_id IS NULL OR task.task_id = :task_id)
      AND NOT EXISTS (SELECT 1 FROM tasks AS o WHERE o.task_id = :task_id AND o.id <> task.id)
    RETURNING t.id
)
INSERT INTO deliveries
    (id, source, remote_addr, method, query, headers, body, body_size, task_id, task_ref, outcome,
     replay_of)
SELECT :id, :source, :remote_addr, :method, :query, :headers, :body, :body_size, :task_id, task.id,
    CASE
        WHEN task.id IS NULL THEN 'unmatched'
        WHEN EXISTS (SELECT 1 FROM applied) THEN 'applied'
        WHEN task.task_id IS DISTINCT FROM :task_id THEN 'unauthenticated'
        WHEN task.result = :result THEN 'duplicate'
        ELSE 'late'
    END,
    :replay_of
FROM (SELECT 1) AS one LEFT JOIN task ON true
RETURNING outcome
"""
).bindparams(
    bindparam("result", type_=JSONB),
    bindparam("output", type_=JSONB),
    bindparam("error", type_=JSONB),
    bindparam("headers", type_=JSONB),
    bindparam("body", type_=LargeBinary),
)


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


def parse(body: bytes | None) -> _Parsed:
    if body is None:
        return _Parsed(None, None, "body is larger than the size limit")
    try:
        # Bytes, not text: json decodes UTF-8 itself and refuses invalid sequences.
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _Parsed(None, None, "body is not valid JSON (or not valid UTF-8)")
    if not isinstance(payload, dict):
        return _Parsed(None, None, "body is not a JSON object")
    unstorable = _unstorable(payload)
    if unstorable:
        return _Parsed(None, None, unstorable)
    task_id = payload.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        return _Parsed(payload, None, "body has no string task_id")
    return _Parsed(payload, task_id, None)


MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff\x00]")


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
    it is then logged as `invalid` whatever its body holds.
    """
    parsed = parse(inbound.body)
    result: Result | None = None
    problem = refusal or parsed.problem
    if authenticated and problem is None and parsed.payload is not None:
        result = read_result(parsed.payload)
        if result is None:
            problem = "body carries neither a result nor an error"
    if not authenticated:
        receipt = await _log(session, inbound, parsed.task_id, None, "unauthenticated", None)
    elif result is None:
        receipt = await _log(session, inbound, parsed.task_id, task_ref, "invalid", problem)
    else:
        assert parsed.payload is not None and parsed.task_id is not None
        receipt = await _apply(session, inbound, parsed.payload, parsed.task_id, task_ref, result)
    await session.commit()
    return receipt


async def _apply(
    session: AsyncSession,
    inbound: Inbound,
    payload: dict[str, Any],
    task_id: str,
    task_ref: str | None,
    result: Result,
) -> Receipt:
    delivery_id = new_id("dlv")
    trace_id = payload.get("trace_id")
    outcome = await session.scalar(
        _APPLY,
        {
            **_columns(inbound),
            "id": delivery_id,
            "task_ref": task_ref,
            "task_id": task_id,
            "status": result.status,
            "result": payload,
            "output": result.output,
            "error": result.error,
            "trace_id": trace_id if isinstance(trace_id, str) else None,
        },
    )
    assert outcome is not None
    detail = (
        "the task's credential does not match this task_id"
        if outcome == "unauthenticated"
        else None
    )
    return Receipt(delivery_id, outcome, task_ref if outcome != "unmatched" else None, detail)


async def _log(
    session: AsyncSession,
    inbound: Inbound,
    task_id: str | None,
    task_ref: str | None,
    outcome: str,
    detail: str | None,
) -> Receipt:
    delivery_id = new_id("dlv")
    await session.execute(
        insert(Delivery).values(
            **_columns(inbound),
            id=delivery_id,
            task_id=task_id,
            task_ref=task_ref,
            outcome=outcome,
            detail=detail,
        )
    )
    return Receipt(delivery_id, outcome, task_ref, detail)


def _columns(inbound: Inbound) -> dict[str, Any]:
    return {
        "source": inbound.source,
        "remote_addr": inbound.remote_addr,
        "method": inbound.method,
        "query": inbound.query,
        "headers": inbound.headers,
        "body": inbound.body,
        "body_size": inbound.body_size,
        "replay_of": inbound.replay_of,
    }
