"""Claiming an Idempotency-Key for a new task, or finding the task it already created."""

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import BadRequest, Conflict
from app.idempotency.models import IdempotencyKey

MAX_KEY_LENGTH = 255
# Visible ASCII, spaces inside: what survives a header unchanged (HTTP strips the ends).
KEY_PATTERN = f"^[!-~]([ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?$"
_KEY = re.compile(KEY_PATTERN)


@dataclass(frozen=True, slots=True)
class Claim:
    task_ref: str
    first: bool  # True: this request owns the key and must create the task


def fingerprint(kind: str, request: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"kind": kind, "request": request}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise BadRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters "
            "(spaces allowed inside)",
            code="invalid_idempotency_key",
        )
    return key


async def claim(session: AsyncSession, key: str, print_: str, new_ref: str, ttl: float) -> Claim:
    """Take `key` for `new_ref` (inside the caller's transaction), or name the task it holds.

    One statement: a second request with the same key waits on the first one's row lock
    until it commits, then sees its task. A key older than `ttl` is taken over."""
    table = IdempotencyKey.__table__
    values = insert(IdempotencyKey).values(key=key, fingerprint=print_, task_ref=new_ref)
    statement = values.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "fingerprint": values.excluded.fingerprint,
            "task_ref": values.excluded.task_ref,
            "created_at": func.now(),
        },
        where=table.c.created_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, ttl),
    ).returning(table.c.task_ref)
    owner = await session.scalar(statement)
    if owner == new_ref:
        return Claim(new_ref, first=True)
    held = (
        await session.execute(
            text("SELECT task_ref, fingerprint FROM idempotency_keys WHERE key = :key"),
            {"key": key},
        )
    ).one()
    if held.fingerprint != print_:
        raise Conflict(
            "this Idempotency-Key was already used with a different request",
            code="idempotency_key_reused",
        )
    return Claim(held.task_ref, first=False)


async def release(session: AsyncSession, key: str, task_ref: str) -> None:
    """Free `key` if it still names `task_ref` (inside the caller's transaction): the next
    request with it creates a new task. A key taken over by another task is left alone."""
    await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.key == key, IdempotencyKey.task_ref == task_ref)
    )
