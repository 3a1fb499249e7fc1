"""Keyset pages, newest first, over tables whose ids sort by creation time (app/ids.py).

The cursor is the last id seen, opaque to clients: rows inserted meanwhile sort before it,
so paging never repeats or skips a row.
"""

import re
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import BadRequest

NUL = "\x00"  # PostgreSQL's text cannot hold it: an id containing it matches nothing

# An id from app/ids.py: a prefix, "_", 26 Crockford base32 characters. Documented as the
# cursor's pattern, checked by decode_cursor (400 invalid_cursor, not FastAPI's 422).
CURSOR_PATTERN = "^[a-z]{1,16}_[0-9A-HJKMNP-TV-Z]{26}$"
_CURSOR = re.compile(CURSOR_PATTERN)

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class PageQuery:
    """A list endpoint's ?limit= and ?cursor=."""

    limit: Annotated[int, Query(ge=1, le=100)] = 20
    cursor: Annotated[
        str | None,
        Query(
            description="next_cursor of the previous page",
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = None


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
    if cursor is not None:
        query = query.where(id_column < decode_cursor(cursor))
    rows = list(await session.scalars(query))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(getattr(rows[-1], id_column.key))


def encode_cursor(last_id: str) -> str:
    return last_id


def decode_cursor(cursor: str) -> str:
    # Any id-shaped cursor is a position in the order, issued or not: only other shapes
    # (a NUL, say, that PostgreSQL's text cannot hold) are refused.
    if not _CURSOR.fullmatch(cursor):
        raise BadRequest("cursor is not one this service issued", code="invalid_cursor")
    return cursor
