"""Keyset pages, newest first, over tables whose ids sort by creation time (app/ids.py).

The cursor is the last id seen, opaque to clients: rows inserted meanwhile sort before it,
so paging never repeats or skips a row.
"""

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import BadRequest

NUL = "\x00"  # PostgreSQL's text cannot hold it: an id containing it matches nothing

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A list endpoint's ?limit= and ?cursor=."""

    limit: Annotated[int, Query(ge=1, le=100)] = 20
    cursor: str | None = None


PageDep = Annotated[PageQuery, Depends()]


async def page(
    session: AsyncSession,
    query: Select[Row],
    id_column: InstrumentedAttribute[Any],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row], str | None]:
    """Up to `limit` rows of `query` after `cursor`, and the cursor of the next page."""
    query = query.order_by(id_column.desc()).limit(limit + 1)
    if cursor:
        query = query.where(id_column < decode_cursor(cursor))
    rows = list(await session.scalars(query))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(getattr(rows[-1], id_column.key))


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        # validate: other characters (a NUL, say) are refused, not silently skipped.
        last_id = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_id = NUL
    if not last_id or NUL in last_id:
        raise BadRequest("cursor is not one this service issued", code="invalid_cursor")
    return last_id
